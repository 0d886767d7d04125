//! Times each query of a list against an index (maintainers' profiling aid).
use std::time::Instant;
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let engine = skillmap::index::engine::Engine::open(std::path::Path::new(&args[1])).unwrap();
    for q in &args[2..] {
        let req = skillmap::search::SearchRequest::new(q.as_str());
        let _ = skillmap::search::search(&engine, &req).unwrap();
        let t = Instant::now();
        for _ in 0..20 {
            std::hint::black_box(skillmap::search::search(&engine, &req).unwrap());
        }
        println!("{:>8.3} ms  {q}", t.elapsed().as_secs_f64() * 1e3 / 20.0);
    }
}
