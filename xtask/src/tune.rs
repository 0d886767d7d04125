//! `cargo xtask tune-search`: chooses statement search's ranking weights on the tuning half of
//! the judged queries in `data/relevance/`, by a grid search over mean nDCG@10 and the
//! one-standard-error rule: of the points whose mean is within one standard error of the best
//! one's (the error of the per-query differences between them), the simplest wins — the fewest
//! weights in use, then the smallest. Differences smaller than that are the luck of which
//! queries were judged, and a weight chosen on them would not carry over to unseen queries.
//!
//! The held-out half is never read here: it is measured afterwards with `skillmap eval-search
//! --split held-out`. The grid is small and fixed, so anyone can re-run the choice and get the
//! same answer.

use std::path::Path;

use anyhow::Result;
use skillmap::search::Ranking;
use skillmap::search::relevance::{self, Split};

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
    /// nDCG@10 per tuning query, in one fixed query order.
    pub per_query: Vec<f64>,
}

impl Point {
    /// Simpler is smaller: the number of weights in use, then their sum, then the slop.
    fn complexity(&self) -> (usize, f32, u32) {
        let r = &self.ranking;
        let used = [r.title, r.alt_titles, r.phrase]
            .iter()
            .filter(|w| **w > 0.0)
            .count();
        let slop = if r.phrase > 0.0 { r.slop } else { 0 };
        (used, r.title + r.alt_titles + r.phrase, slop)
    }
}

/// Indexes `data` in a temporary folder and measures every grid point on the tuning half. With
/// `pool_runs`, also writes the `pool_k` best points' rankings of *every* query (both halves;
/// no grade is read for that) as TREC runs into that folder, for pooling new judgments with
/// `benches/relevance_pool.py`.
pub fn run(data: &Path, pool_runs: Option<&Path>, pool_k: usize) -> Result<Vec<Point>> {
    let Judged {
        engine,
        all_queries,
        queries,
        qrels,
        ..
    } = judged(data, "qrels.txt")?;
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
                        per_query: r.per_query.iter().map(|q| q.ndcg10).collect(),
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
            skillmap::app::output::trec::write_run(
                &mut f,
                &all_queries,
                &run,
                &format!("candidate{}", i + 1),
            )?;
            std::io::Write::flush(&mut f)?;
        }
    }
    Ok(points)
}

/// The bundled collection indexed with one thread in a temporary folder, with the judged
/// queries of `data/relevance/` and one of its judgment files.
pub struct Judged {
    /// Holds the index while `engine` reads it.
    pub _dir: tempfile::TempDir,
    pub engine: skillmap::index::engine::Engine,
    pub all_queries: Vec<relevance::Query>,
    /// The tuning half.
    pub queries: Vec<relevance::Query>,
    pub qrels: relevance::Qrels,
}

/// Indexes `data` and reads its judged queries and the judgments in `qrels` (a file name in
/// `data/relevance/`).
pub fn judged(data: &Path, qrels: &str) -> Result<Judged> {
    let dir = tempfile::tempdir()?;
    let engine = crate::fit::index_bundled(data, &dir.path().join("index"))?;
    let rel = data.join("relevance");
    let read = |name: &str| -> Result<(String, String)> {
        let p = rel.join(name);
        Ok((p.display().to_string(), std::fs::read_to_string(&p)?))
    };
    let (qp, qt) = read("queries.tsv")?;
    let (rp, rt) = read(qrels)?;
    let all_queries = relevance::parse_queries(&qp, &qt)?;
    let queries = all_queries
        .iter()
        .filter(|q| Split::Tune.holds(&q.id))
        .cloned()
        .collect();
    Ok(Judged {
        _dir: dir,
        engine,
        all_queries,
        queries,
        qrels: relevance::parse_qrels(&rp, &rt)?,
    })
}

/// The highest mean nDCG@10 (the earlier point on a tie).
pub fn best(points: &[Point]) -> Option<&Point> {
    points
        .iter()
        .fold(None, |best: Option<&Point>, p| match best {
            Some(b) if p.ndcg10 <= b.ndcg10 => Some(b),
            _ => Some(p),
        })
}

/// The standard error of the mean of the per-query differences between two points.
pub fn standard_error(a: &Point, b: &Point) -> f64 {
    error_of(&a.per_query, &b.per_query)
}

/// The standard error of the mean of the differences between two lists of per-query measures.
pub fn error_of(a: &[f64], b: &[f64]) -> f64 {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let n = d.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let mean = d.iter().sum::<f64>() / n;
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (var / n).sqrt()
}

/// The one-standard-error choice: the simplest point whose mean is within one standard error
/// of the best point's.
pub fn choose(points: &[Point]) -> Option<&Point> {
    let best = best(points)?;
    points
        .iter()
        .filter(|p| best.ndcg10 - p.ndcg10 <= standard_error(best, p))
        .min_by(|a, b| {
            let (ua, sa, la) = a.complexity();
            let (ub, sb, lb) = b.complexity();
            ua.cmp(&ub)
                .then(sa.total_cmp(&sb))
                .then(la.cmp(&lb))
                .then(b.ndcg10.total_cmp(&a.ndcg10))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(title: f32, phrase: f32, per_query: Vec<f64>) -> Point {
        let n = per_query.len() as f64;
        Point {
            ranking: Ranking {
                title,
                alt_titles: 0.0,
                phrase,
                slop: 0,
            },
            ndcg10: per_query.iter().sum::<f64>() / n,
            p10: 0.0,
            per_query,
        }
    }

    #[test]
    fn the_simplest_point_within_one_standard_error_wins() {
        // b is best by a hair that the per-query noise swamps: a, simpler, is chosen.
        let a = point(0.0, 0.0, vec![0.9, 0.5, 0.8, 0.6]);
        let b = point(0.2, 0.0, vec![0.8, 0.7, 0.7, 0.7]);
        let points = [b.clone(), a.clone()];
        assert_eq!(best(&points).unwrap().ranking, b.ranking);
        assert_eq!(choose(&points).unwrap().ranking, a.ranking);
        // A gain on every query is no luck: the better point is chosen.
        let c = point(0.2, 0.0, vec![0.95, 0.55, 0.85, 0.65]);
        let points = [a.clone(), c.clone()];
        assert_eq!(choose(&points).unwrap().ranking, c.ranking);
    }
}
