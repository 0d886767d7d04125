//! `cargo xtask tune-occupations`: chooses how much an occupation's breadth of evidence (levels
//! reached, statements matched) and its titles and tools weigh in occupation ranking, and the
//! weight of the occupation's title words, on the tuning half of the judged occupation queries
//! (`data/relevance/occupation-qrels.txt`), by a fixed grid over mean nDCG@10 and the one-standard-error rule of `tune-search`: of the points
//! within one standard error of the best, the simplest (fewest weights in use, then the
//! smallest sum) wins. The held-out half is never read here.

use std::path::Path;

use anyhow::Result;
use skillmap::search::OccupationWeights;
use skillmap::search::relevance::{self, Split};

/// The weights tried.
pub const LEVELS: [f32; 4] = [0.0, 0.25, 0.5, 1.0];
pub const MATCHES: [f32; 4] = [0.0, 0.05, 0.1, 0.2];
pub const NAMED: [f32; 4] = [0.0, 0.5, 1.0, 2.0];
pub const TITLE: [f32; 4] = [0.0, 0.35, 0.7, 1.4];

/// One point of the grid and its tuning-half measures.
#[derive(Debug, Clone)]
pub struct Point {
    pub weights: OccupationWeights,
    pub ndcg10: f64,
    pub p10: f64,
    /// nDCG@10 per tuning query, in one fixed query order.
    pub per_query: Vec<f64>,
}

impl Point {
    fn complexity(&self) -> (usize, f32) {
        let w = &self.weights;
        let used = [w.levels, w.matches, w.named, w.title]
            .iter()
            .filter(|x| **x > 0.0)
            .count();
        (used, w.levels + w.matches + w.named + w.title)
    }
}

/// The highest mean nDCG@10.
pub fn best(points: &[Point]) -> Option<&Point> {
    points.iter().max_by(|a, b| a.ndcg10.total_cmp(&b.ndcg10))
}

/// Indexes `data` in a temporary folder (one thread) and measures every grid point.
pub fn run(data: &Path) -> Result<Vec<Point>> {
    let crate::tune::Judged {
        engine,
        queries,
        qrels,
        ..
    } = crate::tune::judged(data, "occupation-qrels.txt")?;
    let mut points = Vec::new();
    for &levels in &LEVELS {
        for &matches in &MATCHES {
            for (&named, &title) in NAMED.iter().flat_map(|n| TITLE.iter().map(move |t| (n, t))) {
                let weights = OccupationWeights {
                    levels,
                    matches,
                    named,
                    title,
                };
                let run = relevance::run_occupations_weighted(&engine, &queries, 0.0, &weights)?;
                let r = relevance::evaluate("grid", &queries, &qrels, &run, Split::Tune);
                points.push(Point {
                    weights,
                    ndcg10: r.mean.ndcg10,
                    p10: r.mean.p10,
                    per_query: r.per_query.iter().map(|q| q.ndcg10).collect(),
                });
            }
        }
    }
    Ok(points)
}

/// The one-standard-error choice (see the module's text); the shipped weights
/// ([`OccupationWeights::DEFAULT`]) stay when they are within one standard error of the best,
/// so that a change has to beat them by more than the luck of which queries were judged.
pub fn choose(points: &[Point]) -> Option<&Point> {
    let best = best(points)?;
    let near =
        |p: &&Point| best.ndcg10 - p.ndcg10 <= crate::tune::error_of(&best.per_query, &p.per_query);
    if let Some(shipped) = points
        .iter()
        .filter(near)
        .find(|p| p.weights == OccupationWeights::DEFAULT)
    {
        return Some(shipped);
    }
    points.iter().filter(near).min_by(|a, b| {
        let (ua, sa) = a.complexity();
        let (ub, sb) = b.complexity();
        ua.cmp(&ub)
            .then(sa.total_cmp(&sb))
            .then(b.ndcg10.total_cmp(&a.ndcg10))
    })
}
