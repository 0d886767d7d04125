//! Times each query of a list against an index (maintainers' profiling aid). With
//! `--occupations` first among the queries, times occupation ranking instead; with `--count`
//! first, also counts the matches (what `benches/compare.py` asks every engine for).
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = skillmap::index::engine::Engine::open(std::path::Path::new(&args[1])).unwrap();
    let occupations = args.get(2).is_some_and(|a| a == "--occupations");
    let count = args.get(2).is_some_and(|a| a == "--count");
    let queries = &args[if occupations || count { 3 } else { 2 }..];
    let run = |req: &skillmap::search::SearchRequest| {
        if occupations {
            std::hint::black_box(skillmap::search::search_occupations(&engine, req).map(|_| ()))
        } else {
            std::hint::black_box(skillmap::search::search(&engine, req).map(|_| ()))
        }
        .unwrap()
    };
    for q in queries {
        let mut req = skillmap::search::SearchRequest::new(q.as_str());
        req.count = count;
        let t = Instant::now();
        run(&req);
        let first = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        for _ in 0..20 {
            run(&req);
        }
        println!(
            "{:>8.3} ms  {q}  (first {first:.1} ms)",
            t.elapsed().as_secs_f64() * 1e3 / 20.0
        );
    }
}
