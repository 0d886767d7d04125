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

use std::collections::HashMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BooleanWeight, BoostQuery, ConstScoreQuery, Explanation, FuzzyTermQuery, Occur,
    PhraseQuery, Query, SumCombiner, TermQuery, Weight,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentReader, TantivyDocument, Term};

use crate::domain::level::{Level, LevelCounts};
use crate::error::{Error, Result};
use crate::index::analyzer::{self, Highlighter};
use crate::index::engine::{Engine, StatementStats};
use crate::index::schema::Fields;
use crate::index::store::{self, StoredStatement};

pub mod hybrid;
pub mod relevance;
pub mod request;

pub use request::{MAX_DEPTH, MAX_LIMIT, SearchRequest};

/// Weight of the occupation title when ranking occupations (statement search uses
/// [`Ranking::STATEMENTS`]).
pub const W_TITLE: f32 = 0.7;
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
    /// Occupation ranking: a title that names the query says much about which occupation is
    /// meant.
    pub const OCCUPATIONS: Ranking = Ranking {
        title: W_TITLE,
        alt_titles: 0.0,
        phrase: 0.0,
        slop: 0,
    };
}
/// Statements aggregated when ranking occupations.
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
    /// Matching statements of this occupation among the aggregated pool.
    pub matched: usize,
    /// How those matches spread over the four levels.
    pub levels: LevelCounts,
    /// The best statements (up to three).
    pub hits: Vec<SearchHit>,
    /// The occupation's titles and tools that name the query (up to three), when they do.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub named_by: Vec<String>,
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
    let mut units: Vec<Unit> = Vec::new();
    let mut free = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        let is_phrase = i % 2 == 1 && i + 1 < pieces.len();
        if !is_phrase {
            free.push(' ');
            free.push_str(piece);
            continue;
        }
        let words = analyzer::index_terms(piece);
        match words.len() {
            0 => {}
            1 => units.push(Unit::Word(words[0].clone())),
            _ => units.push(Unit::Phrase(words)),
        }
    }
    let mut words = analyzer::query_terms(&free);
    if words.is_empty() && units.is_empty() {
        // A query of stop words only ("the") still searches for them.
        words = analyzer::index_terms(&free);
    }
    units.extend(words.into_iter().map(Unit::Word));
    let mut seen = std::collections::HashSet::new();
    units.retain(|u| seen.insert(u.clone()));
    units
}

/// The term queries that `first_tier`'s pruned passes combine.
struct PassTerms {
    /// Each unit's statement term.
    units: Vec<Box<dyn Query>>,
    /// The weighted bonus clauses: title terms, alternate titles, the phrase.
    bonus: Vec<Box<dyn Query>>,
}

/// The queries of one request, built once.
struct Compiled {
    /// First tier, scored on the statement text alone: every unit required. For plain words and
    /// no filters this is a bare term query or a pure term intersection, which tantivy answers
    /// with block-max WAND pruning.
    all_plain: Box<dyn Query>,
    /// First tier restricted to statements that match at least one bonus clause, scored with
    /// every bonus they match added; `None` without bonus clauses.
    all_bonus: Option<Box<dyn Query>>,
    /// When every unit is a plain word, there are no filters and there are 1 to
    /// `MAX_BONUS_SUBSET_TERMS` bonus clauses: the statement term queries and the (weighted)
    /// bonus queries, for the pruned passes of `first_tier`.
    pruned_passes: Option<PassTerms>,
    /// Second tier: some but not every unit, bonuses included; `None` for one-unit queries.
    rest: Option<Box<dyn Query>>,
    /// Statements with any unit, for counting (unscored use only).
    any: Option<Box<dyn Query>>,
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

/// Filters as zero-scoring required clauses (exact term matches, never approximate), of a
/// validated request (its SOC filters are prefixes).
fn filter_clauses(f: &Fields, req: &SearchRequest) -> Result<Vec<Box<dyn Query>>> {
    let mut out = Vec::new();
    if !req.soc.is_empty() {
        let qs = req
            .soc
            .iter()
            .map(|p| term_query(f.soc_prefix, p))
            .collect();
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

fn compile(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
    ranking: &Ranking,
) -> Result<Option<Compiled>> {
    let f = &engine.fields;
    let filters = filter_clauses(f, req)?;
    let units = parse_units(&req.query);
    if units.is_empty() {
        return Ok(None);
    }
    let mut highlighter = Highlighter::default();
    let mut unit_queries: Vec<Box<dyn Query>> = Vec::new();
    // Clauses that only add to statements matching on their own text (see `Ranking`).
    let mut bonus: Vec<Box<dyn Query>> = Vec::new();
    let mut exact_words: Vec<&str> = Vec::new();
    let mut plain_words = filters.is_empty();
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
                    plain_words = false;
                } else {
                    unit_queries.push(term_query(f.statement, w));
                    highlighter.exact.insert(w.clone());
                    exact_words.push(w);
                }
                if ranking.title > 0.0 && searcher.doc_freq(&Term::from_field_text(f.title, w))? > 0
                {
                    bonus.push(boost(term_query(f.title, w), ranking.title));
                }
            }
            Unit::Phrase(words) => {
                unit_queries.push(Box::new(PhraseQuery::new(
                    words
                        .iter()
                        .map(|w| Term::from_field_text(f.statement, w))
                        .collect(),
                )));
                highlighter.exact.extend(words.iter().cloned());
                plain_words = false;
            }
        }
    }
    if ranking.alt_titles > 0.0
        && !exact_words.is_empty()
        && let Some(q) = alt_title_bonus(f, searcher, &exact_words, ranking.alt_titles)?
    {
        bonus.push(q);
    }
    if ranking.phrase > 0.0 && exact_words.len() >= 2 {
        // The query's plain words near each other and in order: "quality control" as a
        // phrase, not "control" here and "quality" there.
        let mut phrase = PhraseQuery::new(
            exact_words
                .iter()
                .map(|w| Term::from_field_text(f.statement, w))
                .collect(),
        );
        phrase.set_slop(ranking.slop);
        bonus.push(boost(Box::new(phrase), ranking.phrase));
    }
    let musts = |qs: &[Box<dyn Query>]| -> Vec<(Occur, Box<dyn Query>)> {
        qs.iter().map(|q| (Occur::Must, q.box_clone())).collect()
    };
    let with_filters = |mut clauses: Vec<(Occur, Box<dyn Query>)>| -> Box<dyn Query> {
        clauses.extend(musts(&filters));
        if clauses.len() == 1 && clauses[0].0 == Occur::Must {
            // A bare query keeps tantivy's pruning; a one-clause boolean would hide it.
            return clauses.pop().map(|(_, q)| q).expect("one clause");
        }
        Box::new(BooleanQuery::new(clauses))
    };
    let all_plain = with_filters(musts(&unit_queries));
    let pruned_passes =
        (plain_words && (1..=MAX_BONUS_SUBSET_TERMS).contains(&bonus.len())).then(|| PassTerms {
            units: unit_queries.iter().map(|q| q.box_clone()).collect(),
            bonus: bonus.iter().map(|q| q.box_clone()).collect(),
        });
    let bonus_union = (!bonus.is_empty()).then(|| should(bonus));
    let all_bonus = bonus_union.as_ref().map(|t| {
        let mut clauses = musts(&unit_queries);
        clauses.push((Occur::Must, t.box_clone()));
        with_filters(clauses)
    });
    let rest = (unit_queries.len() > 1).then(|| {
        let any = should(unit_queries.iter().map(|q| q.box_clone()).collect());
        let all_only = Box::new(BooleanQuery::new(musts(&unit_queries))) as Box<dyn Query>;
        let mut clauses = vec![(Occur::Must, any), (Occur::MustNot, all_only)];
        if let Some(t) = &bonus_union {
            clauses.push((Occur::Should, t.box_clone()));
        }
        with_filters(clauses)
    });
    let any = (unit_queries.len() > 1).then(|| {
        with_filters(vec![(
            Occur::Must,
            should(unit_queries.iter().map(|q| q.box_clone()).collect()),
        )])
    });
    Ok(Some(Compiled {
        all_plain,
        all_bonus,
        pruned_passes,
        rest,
        any,
        highlighter,
    }))
}

/// Occupations whose alternate titles hold query words score `weight` × the BM25 of those words
/// over their titles (the best of their knowledge documents), as one clause: a union of
/// constant-scored SOC terms, at most `ALT_TITLE_OCCUPATIONS` of them.
fn alt_title_bonus(
    f: &Fields,
    searcher: &Searcher,
    words: &[&str],
    weight: f32,
) -> Result<Option<Box<dyn Query>>> {
    const ALT_TITLE_OCCUPATIONS: usize = 64;
    let q = should(words.iter().map(|w| term_query(f.alt_title, w)).collect());
    let mut best: HashMap<String, f32> = HashMap::new();
    for (score, addr) in searcher.search(
        &*q,
        &TopDocs::with_limit(ALT_TITLE_OCCUPATIONS).order_by_score(),
    )? {
        let doc: TantivyDocument = searcher.doc(addr)?;
        if let Some(soc) = doc.get_first(f.know_soc).and_then(|v| v.as_str()) {
            let e = best.entry(soc.to_string()).or_insert(0.0);
            *e = e.max(score);
        }
    }
    if best.is_empty() {
        return Ok(None);
    }
    let mut socs: Vec<(String, f32)> = best.into_iter().collect();
    socs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Some(should(
        socs.into_iter()
            .map(|(soc, score)| {
                Box::new(ConstScoreQuery::new(
                    Box::new(TermQuery::new(f.soc_term(&soc), IndexRecordOption::Basic)),
                    weight * score,
                )) as Box<dyn Query>
            })
            .collect(),
    )))
}

/// The best `depth` docs of a query, and the count of all its matches when asked for (counting
/// visits every match, so it is skipped unless wanted: top-k alone lets tantivy prune).
fn top(
    searcher: &Searcher,
    q: &dyn Query,
    depth: usize,
    count: bool,
) -> Result<(Vec<Scored>, Option<usize>)> {
    let stats = StatementStats::of(searcher)?;
    match (depth, count) {
        (0, false) => Ok((Vec::new(), None)),
        (0, true) => Ok((Vec::new(), Some(searcher.search(q, &Count)?))),
        (_, false) => Ok((
            stats.search(q, &TopDocs::with_limit(depth).order_by_score())?,
            None,
        )),
        (_, true) => {
            let (docs, n) =
                stats.search(q, &(TopDocs::with_limit(depth).order_by_score(), Count))?;
            Ok((docs, Some(n)))
        }
    }
}

/// A scored document.
type Scored = (f32, DocAddress);
/// A ranked document: score, address, whether it has every unit, and the query that scored it.
type RankedDoc<'a> = (f32, DocAddress, bool, &'a dyn Query);

/// A ranked page across the two tiers.
#[derive(Default)]
struct Ranked<'a> {
    docs: Vec<RankedDoc<'a>>,
    total: Option<usize>,
    total_all: Option<usize>,
}

/// A weight shared by several passes' boolean weights (its term statistics are read once).
struct SharedWeight(std::sync::Arc<dyn Weight>);

impl Weight for SharedWeight {
    fn scorer(
        &self,
        reader: &SegmentReader,
        boost: Score,
    ) -> tantivy::Result<Box<dyn tantivy::query::Scorer>> {
        self.0.scorer(reader, boost)
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.0.explain(reader, doc)
    }

    fn for_each_pruning(
        &self,
        threshold: Score,
        reader: &SegmentReader,
        callback: &mut dyn FnMut(DocId, Score) -> Score,
    ) -> tantivy::Result<()> {
        self.0.for_each_pruning(threshold, reader, callback)
    }
}

/// The best `depth` of scored documents pushed in any order, each document once at the best
/// score it was pushed with: better is a higher score, then a lower address, the order
/// tantivy's own top-k keeps.
struct TopK<'a> {
    depth: usize,
    kept: std::collections::BTreeSet<Entry<'a>>,
    by_addr: HashMap<DocAddress, Entry<'a>>,
}

#[derive(Clone, Copy)]
struct Entry<'a> {
    score: Score,
    addr: DocAddress,
    query: &'a dyn Query,
}

impl Ord for Entry<'_> {
    /// Better is greater.
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.score
            .total_cmp(&other.score)
            .then_with(|| other.addr.cmp(&self.addr))
    }
}
impl PartialOrd for Entry<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for Entry<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}
impl Eq for Entry<'_> {}

impl<'a> TopK<'a> {
    fn new(depth: usize) -> Self {
        TopK {
            depth,
            kept: Default::default(),
            by_addr: HashMap::new(),
        }
    }

    fn push(&mut self, e: Entry<'a>) {
        if let Some(old) = self.by_addr.get(&e.addr).copied() {
            if e > old {
                self.kept.remove(&old);
                self.kept.insert(e);
                self.by_addr.insert(e.addr, e);
            }
            return;
        }
        if self.kept.len() >= self.depth {
            match self.kept.first().copied() {
                Some(worst) if e > worst => {
                    self.kept.remove(&worst);
                    self.by_addr.remove(&worst.addr);
                }
                _ => return,
            }
        }
        self.kept.insert(e);
        self.by_addr.insert(e.addr, e);
    }

    /// Documents scoring above this may still enter (or raise their score). Just below the worst
    /// kept score, so that a tie with a lower address still gets its chance.
    fn threshold(&self) -> Score {
        match self.kept.first() {
            Some(w) if self.kept.len() >= self.depth => w.score.next_down(),
            _ => Score::MIN,
        }
    }

    fn into_sorted(self) -> Vec<Entry<'a>> {
        self.kept.into_iter().rev().collect()
    }
}

/// The best `depth` statements with every unit, bonus clauses included.
///
/// With `pruned_passes` (plain words, no filters): one top-k shared by pruned passes, first the
/// subsets of the bonus clauses, largest first (rare and high-scoring, they raise the threshold
/// early), then the plain query. Every pass is an intersection (of terms alone for title
/// terms, which tantivy prunes by block-max WAND) against the shared threshold, and each
/// statement is kept at the best score a pass gave it. Exact: a subset pass scores a statement
/// with that subset's bonuses and reaches it only when it matches them all, so no pass
/// overrates a statement, and the pass with all of the bonuses it matches gives its true score.
/// Kept scores are then lower bounds, so the threshold never exceeds the final `depth`-th
/// score, and that pass reaches every statement that belongs in the final top.
///
/// Otherwise: the plain query's top and the top of the query restricted to statements with a
/// bonus, merged. Exact too: a statement with a bonus scores higher in the restricted query
/// than in the plain one, and any statement of the final top `depth` without a bonus is among
/// the plain query's top `depth`.
fn first_tier<'a>(
    searcher: &Searcher,
    c: &'a Compiled,
    depth: usize,
) -> Result<Vec<RankedDoc<'a>>> {
    if let Some(PassTerms { units, bonus }) = &c.pruned_passes
        && depth > 0
    {
        let stats = StatementStats::of(searcher)?;
        let scoring = stats.scoring();
        // Each term's weight (its BM25 statistics) once, shared by every pass.
        let shared = |qs: &[Box<dyn Query>]| -> Result<Vec<std::sync::Arc<dyn Weight>>> {
            Ok(qs
                .iter()
                .map(|q| q.weight(scoring).map(std::sync::Arc::from))
                .collect::<tantivy::Result<_>>()?)
        };
        let (unit_w, bonus_w) = (shared(units)?, shared(bonus)?);
        let pass = |mask: u32| -> Box<dyn Weight> {
            let mut ws: Vec<(Occur, Box<dyn Weight>)> = unit_w
                .iter()
                .chain(
                    bonus_w
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| mask & (1 << i) != 0)
                        .map(|(_, w)| w),
                )
                .map(|w| {
                    (
                        Occur::Must,
                        Box::new(SharedWeight(w.clone())) as Box<dyn Weight>,
                    )
                })
                .collect();
            if ws.len() == 1 {
                // A bare term keeps its own pruning.
                return ws.pop().map(|(_, w)| w).expect("one weight");
            }
            Box::new(BooleanWeight::with_minimum_number_should_match(
                ws,
                0,
                true,
                Box::new(SumCombiner::default),
            ))
        };
        // Subsets of the bonus clauses, largest first, then none (the plain query).
        let mut masks: Vec<u32> = (0..1u32 << bonus_w.len()).collect();
        masks.sort_by_key(|m| std::cmp::Reverse(m.count_ones()));
        let bonus_q: &dyn Query = c.all_bonus.as_deref().unwrap_or(&*c.all_plain);
        let mut best = TopK::new(depth);
        for mask in masks {
            let weight = pass(mask);
            let explains = if mask == 0 { &*c.all_plain } else { bonus_q };
            for (seg_ord, reader) in searcher.segment_readers().iter().enumerate() {
                let alive = reader.alive_bitset();
                let start = best.threshold();
                let mut on_doc = |doc: DocId, score: Score| -> Score {
                    let addr = DocAddress::new(seg_ord as u32, doc);
                    if alive.is_none_or(|a| a.is_alive(doc)) {
                        best.push(Entry {
                            score,
                            addr,
                            query: explains,
                        });
                    }
                    best.threshold()
                };
                weight.for_each_pruning(start, reader, &mut on_doc)?;
            }
        }
        return Ok(best
            .into_sorted()
            .into_iter()
            .map(|e| (e.score, e.addr, true, e.query))
            .collect());
    }
    let (plain, _) = top(searcher, &*c.all_plain, depth, false)?;
    let Some(bonus_q) = &c.all_bonus else {
        return Ok(plain
            .into_iter()
            .map(|(s, d)| (s, d, true, &*c.all_plain))
            .collect());
    };
    let (with_bonus, _) = top(searcher, &**bonus_q, depth, false)?;
    let mut merged: HashMap<DocAddress, (f32, &dyn Query)> = plain
        .into_iter()
        .map(|(s, d)| (d, (s, &*c.all_plain)))
        .collect();
    for (s, d) in with_bonus {
        merged.insert(d, (s, &**bonus_q));
    }
    let mut docs: Vec<_> = merged
        .into_iter()
        .map(|(d, (s, q))| (s, d, true, q))
        .collect();
    docs.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    docs.truncate(depth);
    Ok(docs)
}

/// Ranks the first tier (every unit) before the second (some units). The second tier is searched
/// only when the first runs out before the page is full: then the first tier's size is known
/// exactly from what it returned, and no count is needed to page across the boundary.
fn rank<'a>(
    searcher: &Searcher,
    c: &'a Compiled,
    offset: usize,
    limit: usize,
    count: bool,
) -> Result<Ranked<'a>> {
    let depth = offset + limit;
    // Top-k alone keeps tantivy's pruning; counts, when wanted, are separate passes that only
    // count (a bare term counts from its document frequency).
    let first = first_tier(searcher, c, depth)?;
    let n_first = first.len();
    let mut docs: Vec<_> = first.into_iter().skip(offset).collect();
    if let Some(rest) = &c.rest
        && n_first < depth
    {
        // The first tier is exhausted at n_first documents.
        let rest_offset = offset.saturating_sub(n_first);
        let rest_depth = rest_offset + (limit - docs.len());
        let (more, _) = top(searcher, &**rest, rest_depth, false)?;
        docs.extend(
            more.into_iter()
                .skip(rest_offset)
                .map(|(s, d)| (s, d, false, &**rest)),
        );
    }
    let (total, total_all) = if count {
        let all = searcher.search(&*c.all_plain, &Count)?;
        let any = match &c.any {
            Some(q) => searcher.search(&**q, &Count)?,
            None => all,
        };
        (Some(any), Some(all))
    } else {
        (None, None)
    };
    Ok(Ranked {
        docs,
        total,
        total_all,
    })
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

/// Fills a hit's snippet and highlight ranges.
pub(crate) fn highlight(
    hit: &mut SearchHit,
    h: &Highlighter,
    analyzer: &mut tantivy::tokenizer::TextAnalyzer,
) {
    let ranges = h.ranges(analyzer, &hit.statement);
    hit.snippet = analyzer::marked_html(&hit.statement, &ranges);
    hit.highlights = analyzer::char_ranges(&hit.statement, &ranges);
    hit.byte_ranges = ranges;
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

/// Ranks occupations by their evidence: the best `OCCUPATION_POOL` matching statements are
/// grouped by occupation, and an occupation scores the sum of its top `OCCUPATION_TOP` statement
/// scores weighted 1, 1/2, 1/4, … so that one strong statement beats many weak ones, yet
/// breadth still counts.
pub fn search_occupations(engine: &Engine, req: &SearchRequest) -> Result<OccupationResults> {
    let req = &req.clone().validated()?;
    let searcher = engine.searcher();
    let compiled = compile(engine, &searcher, req, &Ranking::OCCUPATIONS)?;
    let prepared = match (&compiled, req.semantic_ratio > 0.0) {
        (Some(_), true) => Some(hybrid::prepare(engine, &searcher, req)?),
        _ => None,
    };
    let ranked = match &compiled {
        Some(c) => rank(&searcher, c, 0, OCCUPATION_POOL, false)?,
        None => Ranked::default(),
    };
    // Group by SOC through the fast columns, reading stored documents only for what is shown.
    let addrs: Vec<DocAddress> = ranked.docs.iter().map(|d| d.1).collect();
    let socs = store::socs_of(&searcher, &engine.fields, &addrs)?;
    let mut level_columns = Vec::new();
    for seg in searcher.segment_readers() {
        level_columns.push(store::u64_column(seg, &searcher, engine.fields.level_ord)?);
    }
    let mut groups: HashMap<String, Vec<usize>> = HashMap::new();
    let mut levels: HashMap<String, LevelCounts> = HashMap::new();
    for (i, ((_, addr, _, _), soc)) in ranked.docs.iter().zip(socs).enumerate() {
        let level_col = &level_columns[addr.segment_ord as usize];
        let level = Level::from_ordinal(level_col.first(addr.doc_id).unwrap_or(1))
            .unwrap_or(Level::Emerging);
        *levels.entry(soc.clone()).or_default().get_mut(level) += 1;
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
    // Occupations whose titles or tools name the query (no level can say where, so not with
    // a level filter).
    let named = if req.levels.is_empty() {
        knowledge_matches(engine, &searcher, req)?
    } else {
        HashMap::new()
    };
    let reference = scored
        .iter()
        .map(|s| s.0)
        .fold(0.0, f32::max)
        .max(f32::MIN_POSITIVE);
    let reference = if scored.is_empty() { 1.0 } else { reference };
    for (soc, (k, _)) in &named {
        let bonus = W_NAMED * reference * k;
        match scored.iter_mut().find(|s| s.1 == *soc) {
            Some(entry) => entry.0 += bonus,
            None => scored.push((bonus, soc.clone(), Vec::new())),
        }
    }
    if let Some(p) = &prepared {
        // (1 - ratio) × the lexical score ÷ the best one + ratio × the semantic evidence.
        let evidence = hybrid::occupation_evidence(engine, &searcher, p, &addrs, OCCUPATION_POOL)?;
        let best = scored
            .iter()
            .map(|s| s.0)
            .fold(0.0, f32::max)
            .max(f32::MIN_POSITIVE);
        let r = req.semantic_ratio;
        for entry in scored.iter_mut() {
            let e = evidence.get(&entry.1).copied().unwrap_or(0.0);
            entry.0 = (1.0 - r) * entry.0 / best + r * e;
        }
        let known: std::collections::HashSet<String> = scored.iter().map(|s| s.1.clone()).collect();
        for (soc, e) in evidence {
            let filtered =
                !req.soc.is_empty() || !req.levels.is_empty() || !req.job_zones.is_empty();
            if !known.contains(soc.as_str())
                && (!filtered || in_filters(engine, &searcher, req, &soc)?)
            {
                scored.push((r * e, soc, Vec::new()));
            }
        }
    }
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
        let hits = match &compiled {
            Some(c) if !best.is_empty() => hits(engine, &searcher, c, &best, 1, req.explain)?,
            _ => Vec::new(),
        };
        // An occupation found only by its titles or tools is described by its first statement.
        let first = match hits.first() {
            Some(h) => h.clone(),
            None => first_statement(engine, &searcher, &soc)?,
        };
        occupations.push(OccupationHit {
            rank: n + 1,
            title: first.title.clone(),
            group: first.group.clone(),
            job_zone: first.job_zone,
            score,
            matched: idx.len(),
            levels: levels.remove(&soc).unwrap_or_default(),
            named_by: named.get(&soc).map(|n| n.1.clone()).unwrap_or_default(),
            soc,
            hits,
        });
    }
    Ok(OccupationResults { occupations, total })
}

/// An occupation whose titles or tools name the query gains this many times the best
/// occupation's statement evidence (scaled by how well they name it, 0..=1): being called a
/// forklift operator, or using Python, says the skill is the job.
pub const W_NAMED: f32 = 1.0;

/// Per occupation whose alternate titles or tools hold every word of the query: how strongly
/// they name it, relative to the strongest (0..=1), and the titles and tools that do (up to
/// three). Strength is ln(1 + titles that hold the words) + ln(1 + its tools of the kinds of the
/// tools that do). Occupations outside the request's SOC and job-zone filters, or without
/// statements in the index, are left out.
#[allow(clippy::type_complexity)]
fn knowledge_matches(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
) -> Result<HashMap<String, (f32, Vec<String>)>> {
    let f = &engine.fields;
    let mut words = analyzer::query_terms(&req.query);
    words.sort();
    words.dedup();
    if words.is_empty() {
        return Ok(HashMap::new());
    }
    let all_words = |field| -> Box<dyn Query> {
        Box::new(BooleanQuery::new(
            words
                .iter()
                .map(|w| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(field, w),
                        IndexRecordOption::WithFreqs,
                    ));
                    (Occur::Must, q)
                })
                .collect(),
        ))
    };
    let q = BooleanQuery::new(vec![
        (Occur::Should, all_words(f.alt_title)),
        (Occur::Should, all_words(f.tool)),
    ]);
    let mut socs: Vec<String> = Vec::new();
    for (_, addr) in searcher.search(&q, &TopDocs::with_limit(10_000).order_by_score())? {
        let doc: TantivyDocument = searcher.doc(addr)?;
        if let Some(soc) = doc.get_first(f.know_soc).and_then(|v| v.as_str()) {
            socs.push(soc.to_string());
        }
    }
    socs.sort();
    socs.dedup();
    let holds = |name: &str| {
        let terms = analyzer::query_terms(name);
        words.iter().all(|w| terms.contains(w))
    };
    let mut found: Vec<(String, f32, Vec<String>)> = Vec::new();
    for soc in socs {
        // The request is validated: its SOC filters are prefixes.
        let in_filter = req.soc.is_empty() || req.soc.iter().any(|p| soc.starts_with(p.as_str()));
        if !in_filter {
            continue;
        }
        // Only occupations with statements in the index (and in the job zones asked for) rank.
        let Ok(first) = first_statement(engine, searcher, &soc) else {
            continue;
        };
        if !req.job_zones.is_empty()
            && !first
                .job_zone
                .is_some_and(|z| req.job_zones.contains(&(z as u8)))
        {
            continue;
        }
        let k = crate::index::knowledge::of(searcher, f, &soc)?;
        let titles: Vec<&String> = k.titles.iter().filter(|t| holds(t)).collect();
        let tools: Vec<&crate::domain::framework::Tool> = k
            .tools
            .iter()
            .filter(|t| holds(&t.name) || holds(&t.category))
            .collect();
        // Tools of the same kinds as the named ones: Python among forty development tools is
        // central to the work, Python beside a motor catalogue is not.
        let kinds: std::collections::HashSet<&str> = tools
            .iter()
            .map(|t| t.category.as_str())
            .filter(|c| !c.is_empty())
            .collect();
        let kin = k
            .tools
            .iter()
            .filter(|t| kinds.contains(t.category.as_str()))
            .count()
            .max(tools.len());
        let strength = (1.0 + titles.len() as f32).ln() + (1.0 + kin as f32).ln();
        if strength > 0.0 {
            let names = titles
                .iter()
                .map(|t| t.to_string())
                .chain(tools.iter().map(|t| t.name.clone()))
                .take(3)
                .collect();
            found.push((soc, strength, names));
        }
    }
    let top = found
        .iter()
        .map(|f| f.1)
        .fold(0.0, f32::max)
        .max(f32::MIN_POSITIVE);
    Ok(found
        .into_iter()
        .map(|(soc, strength, names)| (soc, (strength / top, names)))
        .collect())
}

/// The first statement of an occupation (for its title, group and job zone); an error when the
/// index has none.
/// Does the occupation have a statement within the request's filters (SOC, level, job zone)?
fn in_filters(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
    soc: &str,
) -> Result<bool> {
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(
        Occur::Must,
        Box::new(TermQuery::new(
            engine.fields.soc_term(soc),
            IndexRecordOption::Basic,
        )),
    )];
    for f in filter_clauses(&engine.fields, req)? {
        clauses.push((Occur::Must, f));
    }
    Ok(searcher.search(&BooleanQuery::new(clauses), &Count)? > 0)
}

fn first_statement(engine: &Engine, searcher: &Searcher, soc: &str) -> Result<SearchHit> {
    let q = TermQuery::new(engine.fields.soc_term(soc), IndexRecordOption::Basic);
    let Some((_, addr)) = searcher
        .search(&q, &TopDocs::with_limit(1).order_by_score())?
        .into_iter()
        .next()
    else {
        return Err(Error::Invalid(format!(
            "no statements of {soc} are indexed"
        )));
    };
    let doc: TantivyDocument = searcher.doc(addr)?;
    Ok(SearchHit::read(&engine.fields, &doc))
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
