//! Ranked statement search: plain-text query handling, filters, tiers, snippets, occupation ranking.
//!
//! Ranking. A query's words (stemmed, English stop words dropped) and "quoted phrases" are its
//! units. Statements that contain every unit come first, then those that contain some. Within
//! each tier, BM25 over the statement text decides. A [`Ranking`] may add bonus clauses, each a
//! weighted BM25 (or constant) that adds to statements matching on their own text and never
//! makes one match: the occupation title, its alternate titles, the query as a phrase. Statement
//! search uses none ([`Ranking::STATEMENTS`], chosen on judged queries); occupation ranking adds
//! the title at 0.7. A word that occurs nowhere in the index is looked up with typo tolerance
//! (edit distance 1, or 2 for words of 7+ letters) at a constant 0.5, below any exact match.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use tantivy::{Searcher, TantivyDocument};

use crate::domain::level::{Level, LevelCounts};
use crate::error::Result;
use crate::index::analyzer;
use crate::index::engine::{Engine, StatementStats};
use crate::index::schema::Fields;
use crate::index::store::StoredStatement;

pub(crate) mod grouped;
pub mod highlight;
pub mod hybrid;
mod memo;
mod occupations;
mod query;
mod rank;
pub mod relevance;
pub mod request;
pub(crate) mod typo;

pub use highlight::{Highlighter, highlight};

pub use occupations::{
    OccupationWeights, W_NAMED, reads_names_table, search_occupations, search_occupations_weighted,
    warm,
};
use query::{Compiled, compile};
pub use query::{Unit, parse_units};
use rank::{RankedDoc, rank};

pub use request::{MAX_DEPTH, MAX_LIMIT, SearchRequest};

/// Weight of the occupation title in statements' scores when ranking occupations: none, as for
/// statements. `cargo xtask tune-occupations` chose it on the judged occupation queries (0.7
/// before): the titles-and-tools bonus already says when an occupation is named by the query,
/// and title words in every statement's score over-counted it.
pub const W_TITLE: f32 = 0.0;
/// Constant score of a typo-tolerant match.
pub const W_FUZZY: f32 = 0.5;
/// Most bonus clauses (title terms, alternate titles, the phrase) for which the first tier runs one
/// pruned pass per subset of them; with more, it merges two pruned searches instead.
const MAX_BONUS_SUBSET_TERMS: usize = 3;

/// How a ranking weighs what a statement matches beyond its own text. Every weight scales a BM25
/// score that is *added* to the statement text's BM25, and only for statements that match on
/// their own text: these clauses never make a statement match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranking {
    /// The occupation title, for the query words it holds.
    pub title: f32,
    /// The occupation's alternate titles (from exports and title tables), for the query words
    /// they hold: the BM25 of the words over the occupation's titles, as one constant per
    /// occupation.
    pub alt_titles: f32,
    /// The query's words in their order within `slop` positions of each other in the statement
    /// (queries of two words or more).
    pub phrase: f32,
    /// Positions the phrase's words may move (0: adjacent and in order).
    pub slop: u32,
}

impl Ranking {
    /// Statement search: plain BM25 over the statement text within the tiers. Chosen by `cargo
    /// xtask tune-search` on the tuning half of the judged queries in `data/relevance/`: no
    /// bonus helped beyond one standard error (see its README for the figures).
    pub const STATEMENTS: Ranking = Ranking {
        title: 0.0,
        alt_titles: 0.0,
        phrase: 0.0,
        slop: 0,
    };
    /// Occupation ranking's statement scores (see [`W_TITLE`]).
    pub const OCCUPATIONS: Ranking = Ranking {
        title: W_TITLE,
        alt_titles: 0.0,
        phrase: 0.0,
        slop: 0,
    };
}
/// Best lexical statements whose embeddings hybrid occupation ranking reads.
pub const OCCUPATION_POOL: usize = 2_000;
/// Scores of an occupation's best statements are summed with weights 1, 1/2, 1/4, … over this many.
pub const OCCUPATION_TOP: usize = 5;

/// One statement found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchHit {
    pub rank: usize,
    pub id: String,
    pub soc: String,
    pub title: String,
    pub group: String,
    pub level: Level,
    pub level_ord: u64,
    pub position: u64,
    pub job_zone: Option<u64>,
    pub topic: String,
    pub statement: String,
    pub score: f32,
    /// Does the statement contain every word and phrase of the query?
    pub all_terms: bool,
    /// The statement, HTML-escaped, with matched words in `<mark>…</mark>`.
    pub snippet: String,
    /// Matched words as `[start, end)` code point offsets into `statement`.
    pub highlights: Vec<[usize; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<serde_json::Value>,
    /// Matched words as byte ranges into `statement` (for renderers, not serialized).
    #[serde(skip)]
    pub byte_ranges: Vec<Range<usize>>,
}

/// A page of statement hits.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    /// Statements matching at least one unit of the query (when counted).
    pub total: Option<usize>,
    /// Statements matching every unit (when counted).
    pub total_all_terms: Option<usize>,
}

/// One occupation ranked by its evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupationHit {
    pub rank: usize,
    pub soc: String,
    pub title: String,
    pub group: String,
    pub job_zone: Option<u64>,
    pub score: f32,
    /// All of its statements that match (both tiers).
    pub matched: usize,
    /// How those matches spread over the four levels.
    pub levels: LevelCounts,
    /// The best statements (up to three).
    pub hits: Vec<SearchHit>,
    /// The occupation's titles and tools that name the query (up to three), when they do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named_by: Vec<String>,
    /// With `explain`: the parts its score sums.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explain: Option<OccupationExplain>,
}

/// Why an occupation scored as it did: its score is the sum of these parts.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OccupationExplain {
    /// Its best five matching statements' scores, weighted 1, 1/2, 1/4, … (those with every
    /// word of the query first).
    pub statements: f32,
    /// For matches that reach more of the four levels.
    pub levels: f32,
    /// For more matching statements.
    pub matches: f32,
    /// For titles or tools that name the query.
    pub named: f32,
    /// Hybrid search's semantic evidence (the lexical parts are then scaled to the best
    /// occupation's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub semantic: Option<f32>,
}

/// A page of occupations.
#[derive(Debug, Clone, Serialize)]
pub struct OccupationResults {
    pub occupations: Vec<OccupationHit>,
    pub total: usize,
}

impl SearchHit {
    /// A hit of a stored statement (rank, score and highlights filled by the caller).
    pub fn from_stored(s: StoredStatement) -> SearchHit {
        SearchHit {
            rank: 0,
            id: s.id,
            soc: s.soc,
            title: s.title,
            group: s.group,
            level: s.level,
            level_ord: s.level_ord,
            position: s.position,
            job_zone: s.job_zone,
            topic: s.topic,
            statement: s.statement,
            score: 0.0,
            all_terms: false,
            snippet: String::new(),
            highlights: Vec::new(),
            explain: None,
            byte_ranges: Vec::new(),
        }
    }

    /// Reads a stored statement document into a hit.
    pub fn read(f: &Fields, doc: &TantivyDocument) -> SearchHit {
        SearchHit::from_stored(StoredStatement::read(f, doc))
    }
}

fn hits(
    engine: &Engine,
    searcher: &Searcher,
    c: &Compiled,
    ranked: &[RankedDoc<'_>],
    first_rank: usize,
    explain: bool,
) -> Result<Vec<SearchHit>> {
    let mut out = Vec::with_capacity(ranked.len());
    for (i, (score, addr, all_terms, q)) in ranked.iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(*addr)?;
        let mut hit = SearchHit::read(&engine.fields, &doc);
        hit.rank = first_rank + i;
        hit.score = *score;
        hit.all_terms = *all_terms;
        analyzer::with_index_analyzer(|a| highlight(&mut hit, &c.highlighter, a));
        if explain {
            hit.explain = Some(serde_json::to_value(
                StatementStats::of(searcher)?.explain(*q, *addr)?,
            )?);
        }
        out.push(hit);
    }
    Ok(out)
}

/// Searches statements. Plain text never fails; only bad filters or paging are errors.
pub fn search(engine: &Engine, req: &SearchRequest) -> Result<SearchResults> {
    search_ranked(engine, req, &Ranking::STATEMENTS)
}

/// Searches statements with the given ranking weights (for tuning them).
pub fn search_ranked(
    engine: &Engine,
    req: &SearchRequest,
    ranking: &Ranking,
) -> Result<SearchResults> {
    let req = &req.clone().validated()?;
    let searcher = engine.searcher();
    let Some(c) = compile(engine, &searcher, req, ranking)? else {
        let zero = req.count.then_some(0);
        return Ok(SearchResults {
            hits: Vec::new(),
            total: zero,
            total_all_terms: zero,
        });
    };
    if req.semantic_ratio > 0.0 {
        let prepared = hybrid::prepare(engine, &searcher, req)?;
        let depth = (req.offset + req.limit).max(hybrid::POOL);
        let lexical = rank(&searcher, &c, 0, depth, req.count)?;
        let docs = hybrid::rerank(
            engine,
            &searcher,
            lexical.docs,
            &prepared,
            depth,
            req.semantic_ratio,
        )?;
        let page: Vec<_> = docs.into_iter().skip(req.offset).take(req.limit).collect();
        return Ok(SearchResults {
            hits: hits(engine, &searcher, &c, &page, req.offset + 1, req.explain)?,
            total: lexical.total,
            total_all_terms: lexical.total_all,
        });
    }
    let ranked = rank(&searcher, &c, req.offset, req.limit, req.count)?;
    Ok(SearchResults {
        hits: hits(
            engine,
            &searcher,
            &c,
            &ranked.docs,
            req.offset + 1,
            req.explain,
        )?,
        total: ranked.total,
        total_all_terms: ranked.total_all,
    })
}
