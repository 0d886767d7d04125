//! Times occupation ranking per query (maintainers' profiling aid).
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = skillmap::engine::Engine::open(std::path::Path::new(&args[1])).unwrap();
    for q in &args[2..] {
        let mut req = skillmap::search::SearchRequest::new(q.as_str());
        req.limit = std::env::var("LIMIT")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10);
        let t = Instant::now();
        for _ in 0..10 {
            std::hint::black_box(skillmap::search::search_occupations(&engine, &req).unwrap());
        }
        println!("{:>8.3} ms  {q}", t.elapsed().as_secs_f64() * 1e3 / 10.0);
    }
}
