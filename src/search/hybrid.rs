//! Hybrid ranking: BM25 and the static embedding's cosine, mixed by a semantic ratio.
//!
//! Candidates are the lexical pool (the query's own BM25 ranking) and an expansion pool: the
//! BM25 ranking of the index words whose vectors lie nearest to the query's (so "spreadsheet"
//! also fetches statements that say "Excel"). Each candidate scores
//! `(1 - ratio) × BM25 ÷ best BM25 + ratio × cosine(query, statement)`, its BM25 being the
//! query's own (zero for a statement that shares no word with the query). With the default
//! ratio, a statement found only by meaning ranks below the strong lexical matches.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::{DocAddress, Searcher, Term};

use crate::embed::{self, Model, Vector};
use crate::error::Result;
use crate::index::engine::Engine;
use crate::index::store;

use super::query::{Compiled, compile};
use super::rank::{RankedDoc, rank};
use super::{Ranking, SearchRequest};

/// Candidates taken from each pool (at least the page's depth).
pub const POOL: usize = 200;
/// Index words the query is expanded with, at most.
pub const EXPANSION_WORDS: usize = 8;
/// Least cosine between the query and an expansion word.
pub const MIN_WORD_COSINE: f32 = 0.5;

/// The table's words that occur in the index's statements, with their vectors and stems.
pub struct Vocabulary {
    /// (word, its stem, its vector).
    words: Vec<(String, String, Vector)>,
}

/// The table's words whose stems occur in the statements of the searcher's generation.
pub fn vocabulary(engine: &Engine, searcher: &Searcher) -> Result<Arc<Vocabulary>> {
    engine.hybrid_vocabulary.get(searcher, || {
        let f = engine.fields.statement;
        let mut words = Vec::new();
        for (w, v) in Model::bundled().words() {
            let stems = crate::index::analyzer::query_terms(&w);
            let [stem] = stems.as_slice() else { continue };
            if searcher.doc_freq(&Term::from_field_text(f, stem))? > 0 {
                words.push((w, stem.clone(), v));
            }
        }
        Ok(Vocabulary { words })
    })
}

impl Vocabulary {
    /// The query with each word that neither the table nor the index knows replaced by the
    /// index word nearest to it in spelling (edit distance 1, or 2 from seven letters, as the
    /// lexical typo tolerance): an embedding of a misspelt word is noise.
    pub fn corrected(&self, query: &str) -> String {
        let model = Model::bundled();
        let mut out = Vec::new();
        for word in query.split_whitespace() {
            let lower = word.to_lowercase();
            let letters = lower.chars().count();
            let known = !lower.chars().all(char::is_alphabetic)
                || letters < 4
                || model.is_word(&lower)
                || self.words.iter().any(|(w, _, _)| *w == lower);
            if known {
                out.push(word.to_string());
                continue;
            }
            let max = if letters >= 7 { 2 } else { 1 };
            let best = self
                .words
                .iter()
                // Same first letter: the nearest spelling among all words would be slow to find
                // and is seldom the one meant.
                .filter(|(w, _, _)| {
                    w.len().abs_diff(lower.len()) <= max && w.chars().next() == lower.chars().next()
                })
                .map(|(w, _, _)| (strsim::damerau_levenshtein(w, &lower), w))
                .filter(|(d, _)| *d <= max)
                .min();
            out.push(best.map_or_else(|| word.to_string(), |(_, w)| w.clone()));
        }
        out.join(" ")
    }

    /// The words nearest to a query vector, but those the query has (as stems), best first.
    pub fn expansion(&self, query: &[f32], own: &[String]) -> Vec<(String, f32)> {
        let mut best: Vec<(String, f32)> = Vec::new();
        for (_, w, v) in &self.words {
            let c = embed::dot(query, v);
            if c < MIN_WORD_COSINE || own.contains(w) {
                continue;
            }
            match best.iter().position(|(b, _)| b == w) {
                Some(i) if best[i].1 >= c => continue,
                Some(i) => {
                    best.remove(i);
                }
                None => {}
            }
            best.push((w.clone(), c));
            best.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            best.truncate(EXPANSION_WORDS);
        }
        best
    }
}

/// What a hybrid request needs beside its lexical ranking.
pub(crate) struct Prepared {
    query: Vector,
    /// The expansion query (the nearest index words), compiled with the request's filters.
    expansion: Option<Compiled>,
}

/// Embeds the query and compiles its expansion.
pub(crate) fn prepare(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
) -> Result<Prepared> {
    let model = Model::bundled();
    let vocabulary = vocabulary(engine, searcher)?;
    let query = model.embed(&vocabulary.corrected(&req.query));
    let own = crate::index::analyzer::query_terms(&req.query);
    let words: Vec<String> = vocabulary
        .expansion(&query, &own)
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    let expansion = if words.is_empty() {
        None
    } else {
        let expanded = SearchRequest {
            query: words.join(" "),
            ..req.clone()
        };
        compile(engine, searcher, &expanded, &Ranking::STATEMENTS)?
    };
    Ok(Prepared { query, expansion })
}

/// Re-ranks the lexical pool together with the expansion pool by the mixed score, best first.
pub(crate) fn rerank<'a>(
    engine: &Engine,
    searcher: &Searcher,
    lexical: Vec<RankedDoc<'a>>,
    prepared: &'a Prepared,
    pool: usize,
    ratio: f32,
) -> Result<Vec<RankedDoc<'a>>> {
    let mut candidates: HashMap<DocAddress, (f32, bool, &'a dyn tantivy::query::Query)> =
        HashMap::new();
    let best = lexical
        .iter()
        .map(|d| d.0)
        .fold(0.0f32, f32::max)
        .max(f32::MIN_POSITIVE);
    for (score, addr, all, q) in lexical {
        candidates.insert(addr, (score / best, all, q));
    }
    if let Some(c) = &prepared.expansion {
        for (_, addr, _, q) in rank(searcher, c, 0, pool, false)?.docs {
            candidates.entry(addr).or_insert((0.0, false, q));
        }
    }
    let candidates: Vec<_> = candidates.into_iter().collect();
    let addrs: Vec<DocAddress> = candidates.iter().map(|c| c.0).collect();
    let cosines = statement_cosines(engine, searcher, &addrs, &prepared.query)?;
    let mut out: Vec<RankedDoc<'a>> = candidates
        .into_iter()
        .zip(cosines)
        .map(|((addr, (lex, all, q)), cosine)| ((1.0 - ratio) * lex + ratio * cosine, addr, all, q))
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(out)
}

/// Each occupation's title vectors (its own title and its alternates), for occupation ranking.
pub struct OccupationVectors {
    titles: HashMap<String, embed::Matrix>,
}

/// The occupations' title vectors of the searcher's generation (from the vector file; a title
/// it lacks is embedded).
pub fn occupation_vectors(engine: &Engine, searcher: &Searcher) -> Result<Arc<OccupationVectors>> {
    engine.occupation_vectors.get(searcher, || {
        let store = engine.vectors()?;
        let model = Model::bundled();
        let knowledge = crate::index::knowledge::all(searcher, &engine.fields)?;
        let own = own_titles(engine, searcher)?;
        let mut titles: HashMap<String, embed::Matrix> = HashMap::new();
        for (soc, title) in own {
            let alternates = knowledge.get(&soc).map_or(&[][..], |k| &k.titles[..]);
            let m = titles.entry(soc).or_default();
            for t in std::iter::once(&title).chain(alternates) {
                let v = store
                    .get(crate::index::vectors::key(t))
                    .unwrap_or_else(|| model.embed(t));
                m.push(&v);
            }
        }
        Ok(OccupationVectors { titles })
    })
}

/// Each occupation's own title, read from one of its statements.
fn own_titles(engine: &Engine, searcher: &Searcher) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (soc, addr) in store::occupations(searcher, &engine.fields)? {
        let doc: tantivy::TantivyDocument = searcher.doc(addr)?;
        out.push((soc, store::text(&doc, engine.fields.title)));
    }
    Ok(out)
}

/// Statements whose cosines make an occupation's semantic evidence: its best few, so that one
/// close statement counts without a long framework diluting it.
pub const EVIDENCE_STATEMENTS: usize = 3;
/// The title's share of an occupation's semantic evidence (the statements have the rest): half,
/// since a title says what the job is and the statements say what it does.
pub const TITLE_SHARE: f32 = 0.5;

/// Semantic evidence per occupation for a hybrid occupation ranking: ½ × the mean cosine of its
/// best three statements among the pools (the lexical one, `pool`, and the expansion's) plus
/// ½ × its best title cosine. Occupations whose statements enter only through the expansion,
/// or whose titles are among the nearest to the query, are included.
pub(crate) fn occupation_evidence(
    engine: &Engine,
    searcher: &Searcher,
    prepared: &Prepared,
    pool: &[DocAddress],
    pool_size: usize,
) -> Result<HashMap<String, f32>> {
    let mut docs: Vec<DocAddress> = pool.to_vec();
    if let Some(c) = &prepared.expansion {
        docs.extend(
            rank(searcher, c, 0, pool_size, false)?
                .docs
                .iter()
                .map(|d| d.1),
        );
    }
    docs.sort_unstable();
    docs.dedup();
    let socs = store::socs_of(searcher, &engine.fields, &docs)?;
    let cosines = statement_cosines(engine, searcher, &docs, &prepared.query)?;
    let mut best: HashMap<String, Vec<f32>> = HashMap::new();
    for (soc, c) in socs.into_iter().zip(cosines) {
        if !soc.is_empty() {
            best.entry(soc).or_default().push(c);
        }
    }
    let titles = occupation_vectors(engine, searcher)?;
    let title_cosine = |soc: &str| {
        titles.titles.get(soc).map_or(0.0, |m| {
            (0..m.len())
                .map(|i| embed::dot(&prepared.query, m.row(i)))
                .fold(0.0f32, f32::max)
        })
    };
    let mut out: HashMap<String, f32> = HashMap::new();
    for (soc, mut cs) in best {
        cs.sort_by(|a, b| b.total_cmp(a));
        let n = cs.len().min(EVIDENCE_STATEMENTS);
        let statements = cs.iter().take(EVIDENCE_STATEMENTS).sum::<f32>() / n.max(1) as f32;
        let t = title_cosine(&soc);
        out.insert(soc, (1.0 - TITLE_SHARE) * statements + TITLE_SHARE * t);
    }
    // Occupations named by meaning: the nearest titles.
    let mut by_title: Vec<(f32, &String)> = titles
        .titles
        .keys()
        .map(|soc| (title_cosine(soc), soc))
        .collect();
    by_title.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    for (t, soc) in by_title.into_iter().take(NEAREST_TITLES) {
        out.entry(soc.clone()).or_insert(TITLE_SHARE * t);
    }
    Ok(out)
}

/// Occupations that join a hybrid occupation ranking by their titles' cosine alone.
pub const NEAREST_TITLES: usize = 20;

/// The cosine of the query with each statement (zero when its vector is missing).
fn statement_cosines(
    engine: &Engine,
    searcher: &Searcher,
    docs: &[DocAddress],
    query: &[f32],
) -> Result<Vec<f32>> {
    let store = engine.vectors()?;
    let mut key_columns = Vec::new();
    for seg in searcher.segment_readers() {
        key_columns.push(store::u64_column(seg, searcher, engine.fields.vec_key)?);
    }
    Ok(docs
        .iter()
        .map(|addr| {
            key_columns[addr.segment_ord as usize]
                .first(addr.doc_id)
                .and_then(|k| store.get(k))
                .map_or(0.0, |v| embed::dot(query, &v).clamp(0.0, 1.0))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion_finds_near_words_and_leaves_out_the_query_own() {
        let m = Model::bundled();
        let words = m.words();
        let vocab = Vocabulary {
            words: words
                .into_iter()
                .filter(|(w, _)| {
                    ["excel", "spreadsheet", "welding", "worksheets", "forklift"]
                        .contains(&w.as_str())
                })
                .map(|(w, v)| {
                    (
                        w.clone(),
                        crate::index::analyzer::query_terms(&w).remove(0),
                        v,
                    )
                })
                .collect(),
        };
        let q = m.embed("spreadsheet software");
        let own = crate::index::analyzer::query_terms("spreadsheet software");
        let got: Vec<String> = vocab.expansion(&q, &own).into_iter().map(|w| w.0).collect();
        assert!(got.contains(&"excel".to_string()), "{got:?}");
        assert!(!got.iter().any(|w| own.contains(w)), "{got:?}");
        assert!(!got.contains(&"weld".to_string()), "{got:?}");
        assert_eq!(vocab.corrected("Forklfit drivers"), "forklift drivers");
        assert_eq!(vocab.corrected("excel"), "excel", "known words stay");
    }
}
