//! `skillmap eval-search`: ranking quality on judged queries (nDCG@10, P@10, recall@100).
//!
//! Inputs are the usual IR forms: queries as `query_id<TAB>query text` lines, judgments as TREC
//! qrels (`query_id 0 statement_id grade`, grades 0, 1 or 2), and optionally a TREC run
//! (`query_id Q0 statement_id rank score tag`) to score another system's ranking with the same
//! measure. Queries are split into a tuning and a held-out half by a hash of their id, so the
//! split is fixed by the data and not by hand.
//!
//! Measures, per query, over the statements graded for it:
//! - nDCG@10 with the grade as gain and a log2(rank + 1) discount, divided by the DCG of the
//!   best possible order of the query's judged statements;
//! - P@10: the share of the top 10 graded 2 (about doing or using the skill);
//! - recall@100: the share of the statements graded 1 or 2 that are in the top 100.
//!
//! An unjudged statement counts as grade 0 and is never treated as relevant; how many stand in
//! each query's top 10 is reported, so that a ranking that surfaces unjudged statements shows
//! it. Queries with no statement graded 1 or 2 have no ideal ranking and are left out of the
//! means (they are listed).

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::index::engine::Engine;
use crate::search::{self, OccupationWeights, Ranking, SearchRequest};

/// Depth of nDCG and precision.
pub const CUTOFF: usize = 10;
/// Depth of recall.
pub const RECALL_DEPTH: usize = 100;

/// One judged query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub id: String,
    pub text: String,
}

/// Which half of the queries to measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// Every query.
    #[default]
    All,
    /// The half that weights may be chosen on.
    Tune,
    /// The half that nothing was chosen on.
    HeldOut,
}

impl Split {
    /// The half a query id belongs to: FNV-1a (64-bit) of the id, even is tuning.
    pub fn of(query_id: &str) -> Split {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in query_id.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        if h.is_multiple_of(2) {
            Split::Tune
        } else {
            Split::HeldOut
        }
    }

    /// The split's name, as `--split` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::All => "all",
            Split::Tune => "tune",
            Split::HeldOut => "held-out",
        }
    }

    /// Is the query in this split?
    pub fn holds(self, query_id: &str) -> bool {
        self == Split::All || Split::of(query_id) == self
    }
}

/// Judgments: per query, per statement id, a grade 0-2.
pub type Qrels = HashMap<String, HashMap<String, u8>>;

/// A ranking per query: statement ids, best first.
pub type Run = HashMap<String, Vec<String>>;

fn bad(path: &str, line: usize, what: impl std::fmt::Display) -> Error {
    Error::Invalid(format!("{path}: line {line}: {what}"))
}

/// Reads `query_id<TAB>query` lines; blank lines and `#` comments are skipped.
pub fn parse_queries(path: &str, text: &str) -> Result<Vec<Query>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((id, q)) = line.split_once('\t') else {
            return Err(bad(path, i + 1, "expected `query_id<TAB>query text`"));
        };
        let id = id.trim();
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(bad(path, i + 1, "a query id is one word"));
        }
        if q.trim().is_empty() {
            return Err(bad(path, i + 1, format!("query {id} has no text")));
        }
        if !seen.insert(id.to_string()) {
            return Err(bad(path, i + 1, format!("query id {id} appears twice")));
        }
        out.push(Query {
            id: id.to_string(),
            text: q.trim().to_string(),
        });
    }
    Ok(out)
}

/// Reads TREC qrels: `query_id iteration statement_id grade`, grade 0, 1 or 2.
pub fn parse_qrels(path: &str, text: &str) -> Result<Qrels> {
    let mut out: Qrels = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() || f[0].starts_with('#') {
            continue;
        }
        let [q, _, id, grade] = f[..] else {
            return Err(bad(
                path,
                i + 1,
                format!(
                    "expected 4 fields `query_id 0 statement_id grade`, found {}",
                    f.len()
                ),
            ));
        };
        let grade: u8 = match grade.parse() {
            Ok(g @ 0..=2) => g,
            _ => {
                return Err(bad(
                    path,
                    i + 1,
                    format!("grade `{grade}` is not 0, 1 or 2"),
                ));
            }
        };
        if out
            .entry(q.to_string())
            .or_default()
            .insert(id.to_string(), grade)
            .is_some()
        {
            return Err(bad(
                path,
                i + 1,
                format!("statement {id} is judged twice for query {q}"),
            ));
        }
    }
    Ok(out)
}

/// Reads a TREC run: `query_id Q0 statement_id rank score tag`, ordered by rank per query.
pub fn parse_run(path: &str, text: &str) -> Result<Run> {
    let mut ranked: HashMap<String, Vec<(usize, String)>> = HashMap::new();
    for (i, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.is_empty() {
            continue;
        }
        if f.len() < 4 {
            return Err(bad(
                path,
                i + 1,
                "expected `query_id Q0 statement_id rank score tag`",
            ));
        }
        let rank: usize = f[3]
            .parse()
            .map_err(|_| bad(path, i + 1, format!("rank `{}` is not a number", f[3])))?;
        ranked
            .entry(f[0].to_string())
            .or_default()
            .push((rank, f[2].to_string()));
    }
    Ok(ranked
        .into_iter()
        .map(|(q, mut v)| {
            v.sort();
            (q, v.into_iter().map(|(_, id)| id).collect())
        })
        .collect())
}

/// skillmap's own ranking of every query, `RECALL_DEPTH` deep.
pub fn run_search(engine: &Engine, queries: &[Query]) -> Result<Run> {
    run_ranked(engine, queries, &Ranking::STATEMENTS)
}

/// Hybrid search's ranking of every query at a semantic ratio, `RECALL_DEPTH` deep.
pub fn run_hybrid(engine: &Engine, queries: &[Query], semantic_ratio: f32) -> Result<Run> {
    run_with(engine, queries, &Ranking::STATEMENTS, semantic_ratio)
}

/// The ranking of every query under the given weights, `RECALL_DEPTH` deep.
pub fn run_ranked(engine: &Engine, queries: &[Query], ranking: &Ranking) -> Result<Run> {
    run_with(engine, queries, ranking, 0.0)
}

/// Occupation ranking's answer to every query (O*NET-SOC codes), `RECALL_DEPTH` deep.
pub fn run_occupations(engine: &Engine, queries: &[Query], semantic_ratio: f32) -> Result<Run> {
    run_occupations_weighted(engine, queries, semantic_ratio, &OccupationWeights::DEFAULT)
}

/// [`run_occupations`] under other weights (for tuning them).
pub fn run_occupations_weighted(
    engine: &Engine,
    queries: &[Query],
    semantic_ratio: f32,
    weights: &OccupationWeights,
) -> Result<Run> {
    run_each(queries, semantic_ratio, |req| {
        let found = search::search_occupations_weighted(engine, req, weights)?;
        Ok(found.occupations.into_iter().map(|o| o.soc).collect())
    })
}

fn run_with(engine: &Engine, queries: &[Query], ranking: &Ranking, ratio: f32) -> Result<Run> {
    run_each(queries, ratio, |req| {
        let hits = search::search_ranked(engine, req, ranking)?.hits;
        Ok(hits.into_iter().map(|h| h.id).collect())
    })
}

/// Every query's ranking, `RECALL_DEPTH` deep at the semantic ratio, as `rank` gives it.
fn run_each(
    queries: &[Query],
    semantic_ratio: f32,
    rank: impl Fn(&SearchRequest) -> Result<Vec<String>>,
) -> Result<Run> {
    let mut run = HashMap::new();
    for q in queries {
        let mut req = SearchRequest::new(q.text.clone());
        req.limit = RECALL_DEPTH;
        req.semantic_ratio = semantic_ratio;
        run.insert(q.id.clone(), rank(&req)?);
    }
    Ok(run)
}

/// The measures of one query.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct QueryScore {
    pub id: String,
    pub query: String,
    pub split: Split,
    pub ndcg10: f64,
    pub p10: f64,
    pub recall100: f64,
    /// Statements in the top 10 that nobody judged for this query (counted as grade 0).
    pub unjudged10: usize,
    /// Statements returned (up to `RECALL_DEPTH`).
    pub returned: usize,
}

/// Means over the measured queries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
pub struct Means {
    pub queries: usize,
    pub ndcg10: f64,
    pub p10: f64,
    pub recall100: f64,
    pub unjudged10: usize,
}

/// What `eval-search` reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SearchEvalReport {
    /// `skillmap` or the run file's name.
    pub ranking: String,
    pub split: Split,
    pub per_query: Vec<QueryScore>,
    pub mean: Means,
    /// Queries of the split without any statement graded 1 or 2 (left out of the means).
    pub no_relevant: Vec<String>,
    /// Queries of the split that have no judgments at all (left out of the means).
    pub unjudged: Vec<String>,
}

fn dcg(grades: impl Iterator<Item = u8>) -> f64 {
    grades
        .take(CUTOFF)
        .enumerate()
        .map(|(i, g)| f64::from(g) / ((i + 2) as f64).log2())
        .sum()
}

/// Scores one query's ranking against its judgments; `None` when nothing is relevant.
pub fn score_query(
    ranked: &[String],
    judged: &HashMap<String, u8>,
) -> Option<(f64, f64, f64, usize)> {
    let relevant = judged.values().filter(|&&g| g > 0).count();
    if relevant == 0 {
        return None;
    }
    let mut ideal: Vec<u8> = judged.values().copied().collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg = dcg(ideal.into_iter());
    let grade = |id: &String| judged.get(id).copied().unwrap_or(0);
    let ndcg = dcg(ranked.iter().map(grade)) / idcg;
    let top = &ranked[..ranked.len().min(CUTOFF)];
    let p10 = top.iter().filter(|id| grade(id) == 2).count() as f64 / CUTOFF as f64;
    let unjudged = top.iter().filter(|id| !judged.contains_key(*id)).count();
    let found = ranked
        .iter()
        .take(RECALL_DEPTH)
        .filter(|id| grade(id) > 0)
        .count();
    Some((ndcg, p10, found as f64 / relevant as f64, unjudged))
}

/// Measures a run on the queries of one split.
pub fn evaluate(
    ranking: &str,
    queries: &[Query],
    qrels: &Qrels,
    run: &Run,
    split: Split,
) -> SearchEvalReport {
    let mut per_query = Vec::new();
    let (mut no_relevant, mut unjudged) = (Vec::new(), Vec::new());
    for q in queries.iter().filter(|q| split.holds(&q.id)) {
        let Some(judged) = qrels.get(&q.id) else {
            unjudged.push(q.id.clone());
            continue;
        };
        let ranked = run.get(&q.id).map(Vec::as_slice).unwrap_or(&[]);
        match score_query(ranked, judged) {
            None => no_relevant.push(q.id.clone()),
            Some((ndcg10, p10, recall100, unjudged10)) => per_query.push(QueryScore {
                id: q.id.clone(),
                query: q.text.clone(),
                split: Split::of(&q.id),
                ndcg10,
                p10,
                recall100,
                unjudged10,
                returned: ranked.len().min(RECALL_DEPTH),
            }),
        }
    }
    let n = per_query.len();
    let mean = |f: fn(&QueryScore) -> f64| {
        if n == 0 {
            0.0
        } else {
            per_query.iter().map(f).sum::<f64>() / n as f64
        }
    };
    let mean = Means {
        queries: n,
        ndcg10: mean(|q| q.ndcg10),
        p10: mean(|q| q.p10),
        recall100: mean(|q| q.recall100),
        unjudged10: per_query.iter().map(|q| q.unjudged10).sum(),
    };
    SearchEvalReport {
        ranking: ranking.to_string(),
        split,
        per_query,
        mean,
        no_relevant,
        unjudged,
    }
}

/// Judged statement ids (or, with `occupations`, O*NET-SOC codes) that the index does not hold
/// (a stale qrels file, or another collection): reported so that a wrong index is never read as
/// a bad ranking.
pub fn missing_judged(engine: &Engine, qrels: &Qrels, occupations: bool) -> Result<Vec<String>> {
    let searcher = engine.searcher();
    let ids: BTreeSet<&str> = qrels
        .values()
        .flat_map(|judged| judged.keys().map(String::as_str))
        .collect();
    let mut missing = Vec::new();
    for id in ids {
        let term = if occupations {
            engine.fields.soc_term(id)
        } else {
            tantivy::Term::from_field_text(engine.fields.id, id)
        };
        if searcher.doc_freq(&term)? == 0 {
            missing.push(id.to_string());
        }
    }
    Ok(missing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(pairs: &[(&str, u8)]) -> HashMap<String, u8> {
        pairs.iter().map(|(k, g)| (k.to_string(), *g)).collect()
    }

    #[test]
    fn ideal_order_scores_one_and_unjudged_counts_as_zero() {
        let j = judged(&[("a", 2), ("b", 1), ("c", 0)]);
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (ndcg, p10, recall, unj) = score_query(&ids(&["a", "b", "c"]), &j).unwrap();
        assert!((ndcg - 1.0).abs() < 1e-12);
        assert!((p10 - 0.1).abs() < 1e-12);
        assert!((recall - 1.0).abs() < 1e-12);
        assert_eq!(unj, 0);
        // b first: (1 + 2/log2 3) / (2 + 1/log2 3).
        let (ndcg, _, _, _) = score_query(&ids(&["b", "a"]), &j).unwrap();
        let l3 = 3f64.log2();
        assert!((ndcg - (1.0 + 2.0 / l3) / (2.0 + 1.0 / l3)).abs() < 1e-12);
        // An unjudged statement in front is grade 0, never relevant.
        let (ndcg, _, recall, unj) = score_query(&ids(&["x", "a"]), &j).unwrap();
        assert!(ndcg < 0.7 && unj == 1 && (recall - 0.5).abs() < 1e-12);
        assert!(score_query(&ids(&["c"]), &judged(&[("c", 0)])).is_none());
    }

    #[test]
    fn the_split_is_a_fixed_hash_of_the_id() {
        let ids: Vec<String> = (1..=70).map(|i| format!("q{i:02}")).collect();
        let tune = ids.iter().filter(|i| Split::of(i) == Split::Tune).count();
        assert!((25..=45).contains(&tune), "{tune}");
        assert!(ids.iter().all(|i| Split::All.holds(i)));
        assert_eq!(Split::of("q01"), Split::of("q01"));
    }

    #[test]
    fn bad_lines_name_the_file_line_and_what_was_expected() {
        let e = parse_qrels("q.txt", "q1 0 a 2\nq1 0 b 3\n").unwrap_err();
        assert!(e.to_string().contains("q.txt: line 2: grade `3`"), "{e}");
        let e = parse_qrels("q.txt", "q1 0 a\n").unwrap_err();
        assert!(e.to_string().contains("line 1: expected 4 fields"), "{e}");
        let e = parse_qrels("q.txt", "q1 0 a 1\nq1 0 a 2\n").unwrap_err();
        assert!(e.to_string().contains("judged twice"), "{e}");
        let e = parse_queries("qs.tsv", "# c\nq1\tinterview\nq2 no tab\n").unwrap_err();
        assert!(e.to_string().contains("qs.tsv: line 3: expected"), "{e}");
        let e = parse_queries("qs.tsv", "q1\ta\nq1\tb\n").unwrap_err();
        assert!(e.to_string().contains("appears twice"), "{e}");
        let e = parse_run("r", "q1 Q0 a x 1 t\n").unwrap_err();
        assert!(e.to_string().contains("rank `x`"), "{e}");
        let run = parse_run("r", "q1 Q0 b 2 1 t\nq1 Q0 a 1 2 t\n").unwrap();
        assert_eq!(run["q1"], ["a", "b"]);
    }
}
