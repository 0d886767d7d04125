//! `cargo xtask tune-search`: chooses statement search's ranking weights on the tuning half of
//! the judged queries in `data/relevance/`, by a grid search for the best mean nDCG@10.
//!
//! The held-out half is never read here: it is measured afterwards with `skillmap eval-search
//! --split held-out`. The grid is small and fixed, so anyone can re-run the choice and get the
//! same answer; ties go to the smaller weights (the simpler ranking).

use std::path::Path;

use anyhow::Result;
use skillmap::relevance::{self, Split};
use skillmap::search::Ranking;

/// Weights tried for the occupation title, its alternate titles and the phrase bonus, and the
/// phrase's slops.
pub const TITLE: [f32; 4] = [0.0, 0.2, 0.4, 0.7];
pub const ALT_TITLES: [f32; 4] = [0.0, 0.05, 0.1, 0.2];
pub const PHRASE: [f32; 5] = [0.0, 0.25, 0.5, 1.0, 2.0];
pub const SLOP: [u32; 3] = [0, 1, 3];

/// One point of the grid and its tuning-half measures.
#[derive(Debug, Clone)]
pub struct Point {
    pub ranking: Ranking,
    pub ndcg10: f64,
    pub p10: f64,
}

/// Indexes `data` in a temporary folder and measures every grid point on the tuning half. With
/// `pool_runs`, also writes the `pool_k` best points' rankings of *every* query (both halves;
/// no grade is read for that) as TREC runs into that folder, for pooling new judgments with
/// `benches/relevance_pool.py`.
pub fn run(data: &Path, pool_runs: Option<&Path>, pool_k: usize) -> Result<Vec<Point>> {
    let tmp = tempfile::tempdir()?;
    let engine = crate::fit::index_bundled(data, &tmp.path().join("index"))?;
    let rel = data.join("relevance");
    let read = |name: &str| -> Result<(String, String)> {
        let p = rel.join(name);
        Ok((p.display().to_string(), std::fs::read_to_string(&p)?))
    };
    let (qp, qt) = read("queries.tsv")?;
    let (rp, rt) = read("qrels.txt")?;
    let all_queries = relevance::parse_queries(&qp, &qt)?;
    let queries: Vec<_> = all_queries
        .iter()
        .filter(|q| Split::Tune.holds(&q.id))
        .cloned()
        .collect();
    let qrels = relevance::parse_qrels(&rp, &rt)?;
    let mut points = Vec::new();
    for &title in &TITLE {
        for &alt_titles in &ALT_TITLES {
            for &phrase in &PHRASE {
                // The slop only matters with a phrase bonus.
                let slops: &[u32] = if phrase > 0.0 { &SLOP } else { &SLOP[..1] };
                for &slop in slops {
                    let ranking = Ranking {
                        title,
                        alt_titles,
                        phrase,
                        slop,
                    };
                    let run = relevance::run_ranked(&engine, &queries, &ranking)?;
                    let r = relevance::evaluate("grid", &queries, &qrels, &run, Split::Tune);
                    points.push(Point {
                        ranking,
                        ndcg10: r.mean.ndcg10,
                        p10: r.mean.p10,
                    });
                }
            }
        }
    }
    if let Some(dir) = pool_runs {
        std::fs::create_dir_all(dir)?;
        let mut ranked = points.clone();
        ranked.sort_by(|a, b| b.ndcg10.total_cmp(&a.ndcg10));
        for (i, p) in ranked.iter().take(pool_k).enumerate() {
            let run = relevance::run_ranked(&engine, &all_queries, &p.ranking)?;
            let mut f = std::io::BufWriter::new(std::fs::File::create(
                dir.join(format!("candidate-{}.run", i + 1)),
            )?);
            skillmap::output::trec_run(&mut f, &all_queries, &run, &format!("candidate{}", i + 1))?;
            std::io::Write::flush(&mut f)?;
        }
    }
    Ok(points)
}

/// The best point: highest nDCG@10, ties (within 1e-9) to the earlier, smaller weights.
pub fn best(points: &[Point]) -> Option<&Point> {
    points
        .iter()
        .fold(None, |best: Option<&Point>, p| match best {
            Some(b) if p.ndcg10 <= b.ndcg10 + 1e-9 => Some(b),
            _ => Some(p),
        })
}
