//! Ranked statement search: plain-text query handling, filters, tiers, snippets, occupation ranking.
//!
//! Ranking. A query's words (stemmed, English stop words dropped) and "quoted phrases" are its
//! units. Statements that contain every unit come first, then those that contain some; within each
//! tier, BM25 decides, summed over fields with these weights: statement text 1.0, its topic 0.5
//! (the topic is also part of the statement, so topic words count 1.5 in all), and the
//! occupation's title 0.7 (title words only add to statements that match on their own text). A word
//! that occurs nowhere in the index is looked up with typo tolerance (edit distance 1, or 2 for
//! words of 7+ letters) at a constant 0.5, below any exact match.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::model::Level;
use crate::schema::{Fields, normalize_soc_filter};
use crate::text::{self, Highlighter};

/// Weight of the statement's topic (added to the statement text's own score).
pub const W_TOPIC: f32 = 0.5;
/// Weight of the occupation title.
pub const W_TITLE: f32 = 0.7;
/// Constant score of a typo-tolerant match.
pub const W_FUZZY: f32 = 0.5;
/// Most results one request may ask for (limit), and deepest page (offset + limit).
pub const MAX_LIMIT: usize = 1_000;
pub const MAX_DEPTH: usize = 100_000;
/// Statements aggregated when ranking occupations.
pub const OCCUPATION_POOL: usize = 2_000;
/// Scores of an occupation's best statements are summed with weights 1, 1/2, 1/4, … over this many.
pub const OCCUPATION_TOP: usize = 5;

/// A search: the query text and its filters.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    pub soc: Vec<String>,
    pub levels: Vec<Level>,
    pub job_zones: Vec<u8>,
    pub limit: usize,
    pub offset: usize,
    pub explain: bool,
}

impl SearchRequest {
    /// A request for the top 10 hits of `query`, unfiltered.
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            limit: 10,
            ..Default::default()
        }
    }
}

/// One statement found.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
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
    /// Statements matching at least one unit of the query.
    pub total: usize,
    /// Statements matching every unit.
    pub total_all_terms: usize,
}

/// One occupation ranked by its evidence.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OccupationHit {
    pub rank: usize,
    pub soc: String,
    pub title: String,
    pub group: String,
    pub job_zone: Option<u64>,
    pub score: f32,
    /// Matching statements of this occupation among the aggregated pool.
    pub matched: usize,
    /// How those matches spread over the four levels.
    pub levels: BTreeMap<String, u64>,
    /// The best statements (up to three).
    pub hits: Vec<SearchHit>,
}

/// A page of occupations.
#[derive(Debug, Clone, Serialize)]
pub struct OccupationResults {
    pub occupations: Vec<OccupationHit>,
    pub total: usize,
}

/// A query unit: a stemmed word or a phrase of stemmed words.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Unit {
    Word(String),
    Phrase(Vec<String>),
}

/// Splits plain text into units. Never fails: punctuation is a separator, balanced double quotes
/// make phrases and an unbalanced quote is ordinary text.
pub fn parse_units(query: &str) -> Vec<Unit> {
    let normalized: String = query
        .chars()
        .map(|c| {
            if matches!(c, '“' | '”' | '„') {
                '"'
            } else {
                c
            }
        })
        .collect();
    let pieces: Vec<&str> = normalized.split('"').collect();
    let mut query_an = text::query_analyzer();
    let mut index_an = text::index_analyzer();
    let mut units: Vec<Unit> = Vec::new();
    let mut free = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let is_phrase = i % 2 == 1 && i + 1 < pieces.len();
        if !is_phrase {
            free.push(' ');
            free.push_str(piece);
            continue;
        }
        let words = text::terms(&mut index_an, piece);
        match words.len() {
            0 => {}
            1 => units.push(Unit::Word(words[0].clone())),
            _ => units.push(Unit::Phrase(words)),
        }
    }
    let mut words = text::terms(&mut query_an, &free);
    if words.is_empty() && units.is_empty() {
        // A query of stop words only ("the") still searches for them.
        words = text::terms(&mut index_an, &free);
    }
    units.extend(words.into_iter().map(Unit::Word));
    let mut seen = std::collections::HashSet::new();
    units.retain(|u| seen.insert(u.clone()));
    units
}

/// The queries of one request, built once.
struct Compiled {
    /// Statements with every unit (first tier).
    all: Box<dyn Query>,
    /// Statements with some but not every unit (second tier); `None` for one-unit queries.
    rest: Option<Box<dyn Query>>,
    highlighter: Highlighter,
}

fn term_query(field: Field, t: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, t),
        IndexRecordOption::WithFreqs,
    ))
}

fn boost(q: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, by))
}

fn should(qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        qs.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// Filters as zero-scoring required clauses (exact term matches, never approximate).
fn filter_clauses(f: &Fields, req: &SearchRequest) -> Result<Vec<Box<dyn Query>>> {
    let mut out = Vec::new();
    if !req.soc.is_empty() {
        let mut qs = Vec::new();
        for s in &req.soc {
            let prefix = normalize_soc_filter(s).map_err(Error::Invalid)?;
            qs.push(term_query(f.soc_prefix, &prefix));
        }
        out.push(should(qs));
    }
    if !req.levels.is_empty() {
        out.push(should(
            req.levels
                .iter()
                .map(|l| term_query(f.level, l.as_str()))
                .collect(),
        ));
    }
    if !req.job_zones.is_empty() {
        out.push(should(
            req.job_zones
                .iter()
                .map(|&z| {
                    Box::new(TermQuery::new(
                        Term::from_field_u64(f.job_zone, u64::from(z)),
                        IndexRecordOption::Basic,
                    )) as Box<dyn Query>
                })
                .collect(),
        ));
    }
    Ok(out
        .into_iter()
        .map(|q| Box::new(ConstScoreQuery::new(q, 0.0)) as Box<dyn Query>)
        .collect())
}

fn compile(engine: &Engine, searcher: &Searcher, req: &SearchRequest) -> Result<Option<Compiled>> {
    let f = &engine.fields;
    let filters = filter_clauses(f, req)?;
    let units = parse_units(&req.query);
    if units.is_empty() {
        return Ok(None);
    }
    let mut highlighter = Highlighter::default();
    let mut unit_queries: Vec<Box<dyn Query>> = Vec::new();
    let mut title_queries: Vec<Box<dyn Query>> = Vec::new();
    for unit in &units {
        match unit {
            Unit::Word(w) => {
                let df = searcher.doc_freq(&Term::from_field_text(f.statement, w))?;
                let chars = w.chars().count();
                if df == 0 && chars >= 4 {
                    let distance = if chars >= 7 { 2 } else { 1 };
                    let fuzzy =
                        FuzzyTermQuery::new(Term::from_field_text(f.statement, w), distance, true);
                    unit_queries.push(boost(Box::new(fuzzy), W_FUZZY));
                    highlighter.fuzzy.push((w.clone(), distance as usize));
                } else {
                    unit_queries.push(should(vec![
                        term_query(f.statement, w),
                        boost(term_query(f.topic, w), W_TOPIC),
                    ]));
                    highlighter.exact.insert(w.clone());
                }
                if searcher.doc_freq(&Term::from_field_text(f.title, w))? > 0 {
                    title_queries.push(boost(term_query(f.title, w), W_TITLE));
                }
            }
            Unit::Phrase(words) => {
                let phrase = |field: Field| {
                    Box::new(PhraseQuery::new(
                        words
                            .iter()
                            .map(|w| Term::from_field_text(field, w))
                            .collect(),
                    )) as Box<dyn Query>
                };
                unit_queries.push(should(vec![
                    phrase(f.statement),
                    boost(phrase(f.topic), W_TOPIC),
                ]));
                highlighter.exact.extend(words.iter().cloned());
            }
        }
    }
    let with_extras = |core: Vec<(Occur, Box<dyn Query>)>| -> Box<dyn Query> {
        let mut clauses = core;
        clauses.extend(title_queries.iter().map(|q| (Occur::Should, q.box_clone())));
        clauses.extend(filters.iter().map(|q| (Occur::Must, q.box_clone())));
        Box::new(BooleanQuery::new(clauses))
    };
    let all_core = || -> Vec<(Occur, Box<dyn Query>)> {
        unit_queries
            .iter()
            .map(|q| (Occur::Must, q.box_clone()))
            .collect()
    };
    let all = with_extras(all_core());
    let rest = (unit_queries.len() > 1).then(|| {
        let any = should(unit_queries.iter().map(|q| q.box_clone()).collect());
        let all_only = Box::new(BooleanQuery::new(all_core())) as Box<dyn Query>;
        with_extras(vec![(Occur::Must, any), (Occur::MustNot, all_only)])
    });
    Ok(Some(Compiled {
        all,
        rest,
        highlighter,
    }))
}

fn check_page(req: &SearchRequest) -> Result<()> {
    if req.limit > MAX_LIMIT {
        return Err(Error::Invalid(format!(
            "limit {} is over the maximum of {MAX_LIMIT}",
            req.limit
        )));
    }
    if req.offset.saturating_add(req.limit) > MAX_DEPTH {
        return Err(Error::Invalid(format!(
            "offset + limit is over the maximum depth of {MAX_DEPTH}"
        )));
    }
    Ok(())
}

/// Top `limit` docs after `offset`, with the count of all matches.
fn top(
    searcher: &Searcher,
    q: &dyn Query,
    offset: usize,
    limit: usize,
) -> Result<(Vec<(f32, DocAddress)>, usize)> {
    if limit == 0 {
        return Ok((Vec::new(), searcher.search(q, &Count)?));
    }
    let collector = (
        TopDocs::with_limit(limit)
            .and_offset(offset)
            .order_by_score(),
        Count,
    );
    Ok(searcher.search(q, &collector)?)
}

/// A ranked page of (score, doc, all_terms, tier query) across the two tiers.
struct Ranked<'a> {
    docs: Vec<(f32, DocAddress, bool, &'a dyn Query)>,
    total: usize,
    total_all: usize,
}

fn rank<'a>(
    searcher: &Searcher,
    c: &'a Compiled,
    offset: usize,
    limit: usize,
) -> Result<Ranked<'a>> {
    let (first, total_all) = top(searcher, &*c.all, offset, limit)?;
    let mut docs: Vec<_> = first
        .into_iter()
        .map(|(s, d)| (s, d, true, &*c.all))
        .collect();
    let mut total = total_all;
    if let Some(rest) = &c.rest {
        let rest_offset = offset.saturating_sub(total_all);
        let want = limit - docs.len();
        let (more, total_rest) = top(searcher, &**rest, rest_offset, want)?;
        total += total_rest;
        docs.extend(more.into_iter().map(|(s, d)| (s, d, false, &**rest)));
    }
    Ok(Ranked {
        docs,
        total,
        total_all,
    })
}

fn stored_str(doc: &TantivyDocument, field: Field) -> String {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string()
}

fn stored_u64(doc: &TantivyDocument, field: Field) -> Option<u64> {
    doc.get_first(field).and_then(|v| v.as_u64())
}

/// Reads a stored statement into a hit (rank, score and highlights filled by the caller).
pub(crate) fn hit_from_doc(f: &Fields, doc: &TantivyDocument) -> SearchHit {
    let level_ord = stored_u64(doc, f.level_ord).unwrap_or(1);
    SearchHit {
        rank: 0,
        id: stored_str(doc, f.id),
        soc: stored_str(doc, f.soc),
        title: stored_str(doc, f.title),
        group: stored_str(doc, f.group),
        level: Level::from_ordinal(level_ord).unwrap_or(Level::Emerging),
        level_ord,
        position: stored_u64(doc, f.position).unwrap_or(0),
        job_zone: stored_u64(doc, f.job_zone),
        topic: stored_str(doc, f.topic),
        statement: stored_str(doc, f.statement),
        score: 0.0,
        all_terms: false,
        snippet: String::new(),
        highlights: Vec::new(),
        explain: None,
        byte_ranges: Vec::new(),
    }
}

/// Fills a hit's snippet and highlight ranges.
pub(crate) fn highlight(
    hit: &mut SearchHit,
    h: &Highlighter,
    analyzer: &mut tantivy::tokenizer::TextAnalyzer,
) {
    let ranges = h.ranges(analyzer, &hit.statement);
    hit.snippet = text::marked_html(&hit.statement, &ranges);
    hit.highlights = text::char_ranges(&hit.statement, &ranges);
    hit.byte_ranges = ranges;
}

fn hits(
    engine: &Engine,
    searcher: &Searcher,
    c: &Compiled,
    ranked: &[(f32, DocAddress, bool, &dyn Query)],
    first_rank: usize,
    explain: bool,
) -> Result<Vec<SearchHit>> {
    let mut analyzer = text::index_analyzer();
    let mut out = Vec::with_capacity(ranked.len());
    for (i, (score, addr, all_terms, q)) in ranked.iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(*addr)?;
        let mut hit = hit_from_doc(&engine.fields, &doc);
        hit.rank = first_rank + i;
        hit.score = *score;
        hit.all_terms = *all_terms;
        highlight(&mut hit, &c.highlighter, &mut analyzer);
        if explain {
            hit.explain = Some(serde_json::to_value(q.explain(searcher, *addr)?)?);
        }
        out.push(hit);
    }
    Ok(out)
}

/// Searches statements. Plain text never fails; only bad filters or paging are errors.
pub fn search(engine: &Engine, req: &SearchRequest) -> Result<SearchResults> {
    check_page(req)?;
    let searcher = engine.searcher();
    let Some(c) = compile(engine, &searcher, req)? else {
        return Ok(SearchResults {
            hits: Vec::new(),
            total: 0,
            total_all_terms: 0,
        });
    };
    let ranked = rank(&searcher, &c, req.offset, req.limit)?;
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

/// Ranks occupations by their evidence: the best `OCCUPATION_POOL` matching statements are
/// grouped by occupation, and an occupation scores the sum of its top `OCCUPATION_TOP` statement
/// scores weighted 1, 1/2, 1/4, … so that one strong statement beats many weak ones, yet
/// breadth still counts.
pub fn search_occupations(engine: &Engine, req: &SearchRequest) -> Result<OccupationResults> {
    check_page(req)?;
    let searcher = engine.searcher();
    let Some(c) = compile(engine, &searcher, req)? else {
        return Ok(OccupationResults {
            occupations: Vec::new(),
            total: 0,
        });
    };
    let ranked = rank(&searcher, &c, 0, OCCUPATION_POOL)?;
    // Group by SOC through the fast column, reading stored documents only for what is shown.
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    let mut levels: HashMap<String, BTreeMap<String, u64>> = HashMap::new();
    for (i, (_, addr, _, _)) in ranked.docs.iter().enumerate() {
        let doc: TantivyDocument = searcher.doc(*addr)?;
        let soc = stored_str(&doc, engine.fields.soc);
        let level = Level::from_ordinal(stored_u64(&doc, engine.fields.level_ord).unwrap_or(1))
            .unwrap_or(Level::Emerging);
        *levels
            .entry(soc.clone())
            .or_insert_with(|| {
                Level::ALL
                    .iter()
                    .map(|l| (l.as_str().to_string(), 0))
                    .collect()
            })
            .entry(level.as_str().to_string())
            .or_insert(0) += 1;
        groups.entry(soc).or_default().push(i);
    }
    let mut scored: Vec<(f32, String, Vec<usize>)> = groups
        .into_iter()
        .map(|(soc, idx)| {
            // ranked.docs is in rank order, so idx is too.
            let score = idx
                .iter()
                .take(OCCUPATION_TOP)
                .enumerate()
                .map(|(k, &i)| ranked.docs[i].0 * 0.5f32.powi(k as i32))
                .sum();
            (score, soc, idx)
        })
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let total = scored.len();
    let mut occupations = Vec::new();
    for (n, (score, soc, idx)) in scored
        .into_iter()
        .enumerate()
        .skip(req.offset)
        .take(req.limit)
    {
        let best: Vec<_> = idx.iter().take(3).map(|&i| ranked.docs[i]).collect();
        let hits = hits(engine, &searcher, &c, &best, 1, req.explain)?;
        let first = &hits[0];
        occupations.push(OccupationHit {
            rank: n + 1,
            title: first.title.clone(),
            group: first.group.clone(),
            job_zone: first.job_zone,
            score,
            matched: idx.len(),
            levels: levels.remove(&soc).unwrap_or_default(),
            soc,
            hits,
        });
    }
    Ok(OccupationResults { occupations, total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_from_plain_text() {
        assert_eq!(
            parse_units("Inspecting \"cargo manifests\" of ships"),
            [
                Unit::Phrase(vec!["cargo".into(), "manifest".into()]),
                Unit::Word("inspect".into()),
                Unit::Word("ship".into())
            ]
        );
        assert_eq!(parse_units("\"cargo"), [Unit::Word("cargo".into())]);
        assert!(parse_units("&& (( --").is_empty());
        assert_eq!(
            parse_units("C++ && (SQL) -- 5+ yrs: 'lead'"),
            ["c", "sql", "5", "yrs", "lead"].map(|w| Unit::Word(w.into()))
        );
        assert_eq!(parse_units("the"), [Unit::Word("the".into())]);
    }
}
