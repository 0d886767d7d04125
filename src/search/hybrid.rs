//! Hybrid ranking: BM25 and the static embedding's cosine, mixed by a semantic ratio.
//!
//! Candidates are the lexical pool (the query's own BM25 ranking) and an expansion pool: the
//! BM25 ranking of the index words whose vectors lie nearest to the query's (so "spreadsheet"
//! also fetches statements that say "Excel"). Each candidate scores
//! `(1 - ratio) × BM25 ÷ best BM25 + ratio × cosine(query, statement)`, its BM25 being the
//! query's own (zero for a statement that shares no word with the query). With the default
//! ratio, a statement found only by meaning ranks below the strong lexical matches.

use std::collections::HashMap;

use tantivy::{DocAddress, Searcher, Term};

use super::{Compiled, RankedDoc, Ranking, SearchRequest, compile, rank};
use crate::embed::{self, Model, Vector};
use crate::engine::Engine;
use crate::error::Result;

/// The ratio `--hybrid` uses when none is given.
pub const DEFAULT_RATIO: f32 = 0.3;
/// Candidates taken from each pool (at least the page's depth).
pub const POOL: usize = 200;
/// Index words the query is expanded with, at most.
pub const EXPANSION_WORDS: usize = 8;
/// Least cosine between the query and an expansion word.
pub const MIN_WORD_COSINE: f32 = 0.5;

/// The table's words that occur in the index's statements, with their vectors and stems.
pub struct Vocabulary {
    words: Vec<(String, Vector)>,
}

/// Built once per engine: the table's words whose stems occur in the statements.
pub fn vocabulary(engine: &Engine) -> Result<&Vocabulary> {
    if let Some(v) = engine.hybrid_vocabulary.get() {
        return Ok(v);
    }
    let searcher = engine.searcher();
    let f = engine.fields.statement;
    let mut words = Vec::new();
    for (w, v) in Model::bundled().words() {
        let stems = crate::text::query_terms(&w);
        let [stem] = stems.as_slice() else { continue };
        if searcher.doc_freq(&Term::from_field_text(f, stem))? > 0 {
            words.push((stem.clone(), v));
        }
    }
    Ok(engine
        .hybrid_vocabulary
        .get_or_init(|| Vocabulary { words }))
}

impl Vocabulary {
    /// The words nearest to a query vector, but those the query has (as stems), best first.
    pub fn expansion(&self, query: &[f32], own: &[String]) -> Vec<(String, f32)> {
        let mut best: Vec<(String, f32)> = Vec::new();
        for (w, v) in &self.words {
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
    let query = model.embed(&req.query);
    let own = crate::text::query_terms(&req.query);
    let words: Vec<String> = vocabulary(engine)?
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
    let store = engine.vectors()?;
    let mut key_columns = Vec::new();
    for seg in searcher.segment_readers() {
        key_columns.push(seg.fast_fields().u64("vec_key")?);
    }
    let mut out: Vec<RankedDoc<'a>> = candidates
        .into_iter()
        .map(|(addr, (lex, all, q))| {
            let cosine = key_columns[addr.segment_ord as usize]
                .first(addr.doc_id)
                .and_then(|k| store.get(k))
                .map_or(0.0, |v| embed::dot(&prepared.query, &v).max(0.0));
            ((1.0 - ratio) * lex + ratio * cosine, addr, all, q)
        })
        .collect();
    out.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(out)
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
                    ["excel", "spreadsheet", "welding", "worksheets"].contains(&w.as_str())
                })
                .map(|(w, v)| (crate::text::query_terms(&w).remove(0), v))
                .collect(),
        };
        let q = m.embed("spreadsheet software");
        let own = crate::text::query_terms("spreadsheet software");
        let got: Vec<String> = vocab.expansion(&q, &own).into_iter().map(|w| w.0).collect();
        assert!(got.contains(&"excel".to_string()), "{got:?}");
        assert!(!got.iter().any(|w| own.contains(w)), "{got:?}");
        assert!(!got.contains(&"weld".to_string()), "{got:?}");
    }
}
