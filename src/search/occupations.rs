//! Occupation ranking: the best matching statements grouped by occupation, plus the
//! occupations whose titles or tools name the query.

use std::collections::HashMap;
use std::sync::Arc;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::error::{Error, Result};
use crate::index::engine::{Engine, StatementStats};
use crate::index::{analyzer, knowledge};

use super::grouped::{self, ByOccupation, Evidence, Grouped, OccupationIds};
use super::query::{Compiled, compile, filter_clauses};
use super::rank::{RankedDoc, rank};
use super::request::SearchRequest;
use super::{
    OCCUPATION_POOL, OCCUPATION_TOP, OccupationExplain, OccupationHit, OccupationResults, Ranking,
    SearchHit, hits, hybrid,
};

/// Ranks occupations by their evidence, over every matching statement: an occupation's
/// statements part is the sum of the scores of its best `OCCUPATION_TOP` matching statements
/// weighted 1, 1/2, 1/4, … (so that one strong statement beats many weak ones), where its
/// statements with every word of the query come first, best first, and those with some words
/// follow, best first; a statement's score is the one statement search gives it with the
/// occupation ranking's weights. That part is multiplied by 1 + the weights of
/// [`OccupationWeights::DEFAULT`] times the levels its matches reach and the log of how many
/// match (how much of the work is about the skill). Occupations whose titles or tools name the
/// query then gain [`W_NAMED`] × the best statements part × how strongly they name it.
pub fn search_occupations(engine: &Engine, req: &SearchRequest) -> Result<OccupationResults> {
    search_occupations_weighted(engine, req, &OccupationWeights::DEFAULT)
}

/// How much an occupation's breadth of evidence and its titles and tools add to its statements'
/// score (see [`OccupationWeights::DEFAULT`] for what each means); chosen on the tuning half of
/// the judged occupation queries by `cargo xtask tune-occupations`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OccupationWeights {
    /// × the statements' score × (levels with a match − 1) / 3: a skill met at every level,
    /// from emerging to advanced, is core to the work; one met at a single level is not.
    pub levels: f32,
    /// × the statements' score × ln(matching statements): how much of the work is about it.
    pub matches: f32,
    /// × the best statements' score among all occupations × how strongly the occupation's
    /// titles or tools name the query (0..=1): being called a forklift operator, or using
    /// Python, says the skill is the job.
    pub named: f32,
    /// The weight of the occupation's title words in its statements' scores.
    pub title: f32,
}

impl OccupationWeights {
    /// The chosen weights.
    pub const DEFAULT: OccupationWeights = OccupationWeights {
        levels: 0.0,
        matches: 0.2,
        named: W_NAMED,
        title: Ranking::OCCUPATIONS.title,
    };
}

/// [`search_occupations`] under other weights (for tuning them).
pub fn search_occupations_weighted(
    engine: &Engine,
    req: &SearchRequest,
    w: &OccupationWeights,
) -> Result<OccupationResults> {
    let req = &req.clone().validated()?;
    let searcher = engine.searcher();
    let ranking = Ranking {
        title: w.title,
        ..Ranking::OCCUPATIONS
    };
    let compiled = compile(engine, &searcher, req, &ranking)?;
    let ids = engine.occupation_ids.get(&searcher, || {
        OccupationIds::build(&searcher, &engine.fields)
    })?;
    let found = match &compiled {
        Some(c) => evidence(&searcher, &ids, c)?,
        None => ByOccupation::default(),
    };
    // Occupations whose titles or tools name the query (no level can say where, so not with
    // a level filter).
    let named = if req.levels.is_empty() {
        knowledge_matches(engine, &searcher, req)?
    } else {
        HashMap::new()
    };
    let depth = req.offset + req.limit;
    let (scored, total) = match &compiled {
        Some(c) if req.semantic_ratio > 0.0 => {
            let mut scored = score_all(found, &named, &ids, w);
            let prepared = hybrid::prepare(engine, &searcher, req)?;
            // The semantic evidence is read over the best lexical statements.
            let pool: Vec<DocAddress> = rank(&searcher, c, 0, OCCUPATION_POOL, false)?
                .docs
                .iter()
                .map(|d| d.1)
                .collect();
            blend_semantic(engine, &searcher, req, &prepared, &pool, &ids, &mut scored)?;
            let total = scored.len();
            (page(scored, depth, |s| (s.0, s.1)), total)
        }
        _ => top_scored(found, &named, &ids, w, depth),
    };
    let mut occupations = Vec::new();
    for (n, (score, id, e, parts)) in scored
        .into_iter()
        .enumerate()
        .skip(req.offset)
        .take(req.limit)
    {
        let soc = ids.codes[id as usize].clone();
        let hits = match &compiled {
            Some(c) if !e.best().is_empty() => {
                let best: Vec<RankedDoc<'_>> = e
                    .best()
                    .iter()
                    .take(HITS_SHOWN)
                    .map(|&(s, a, first)| {
                        let q: &dyn Query = match (&c.rest, first) {
                            (Some(rest), false) => &**rest,
                            _ => &*c.first,
                        };
                        (s, a, first, q)
                    })
                    .collect();
                hits(engine, &searcher, c, &best, 1, req.explain)?
            }
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
            matched: e.matched(),
            levels: e.levels(),
            named_by: named.get(&soc).map(|n| n.1.clone()).unwrap_or_default(),
            explain: req
                .explain
                .then_some(parts.explained(req.semantic_ratio > 0.0)),
            soc,
            hits,
        });
    }
    Ok(OccupationResults { occupations, total })
}

/// The first `depth` of `items` in rank order (a higher score, then a lower number: numbers
/// are in code order, so ties go to the lower code); only those are sorted.
fn page<T>(mut items: Vec<T>, depth: usize, key: impl Fn(&T) -> (f32, u32)) -> Vec<T> {
    let order = |a: &T, b: &T| {
        let (a, b) = (key(a), key(b));
        b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1))
    };
    let depth = depth.min(items.len());
    if depth == 0 {
        return Vec::new();
    }
    if depth < items.len() {
        items.select_nth_unstable_by(depth - 1, order);
        items.truncate(depth);
    }
    items.sort_by(order);
    items
}

/// How each occupation's score parts are computed for one query: its evidence, plus the
/// titles-and-tools bonus, which is scaled by the best statements part of all occupations.
struct Scorer<'w> {
    w: &'w OccupationWeights,
    /// How strongly each named occupation's titles and tools name the query, by number. Every
    /// named occupation has statements within the filters (`knowledge_matches` checks), so it
    /// has a number.
    named: foldhash::HashMap<u32, f32>,
    /// The best statements part among the occupations found (1 when none is).
    reference: f32,
}

impl<'w> Scorer<'w> {
    fn new(
        found: &ByOccupation,
        named: &HashMap<String, (f32, Vec<String>)>,
        ids: &OccupationIds,
        w: &'w OccupationWeights,
    ) -> Scorer<'w> {
        let reference = found
            .iter()
            .map(|(_, e)| ScoreParts::of(e, w).statements)
            .fold(0.0, f32::max)
            .max(f32::MIN_POSITIVE);
        Scorer {
            w,
            named: named
                .iter()
                .filter_map(|(soc, (k, _))| ids.id(soc).map(|id| (id, *k)))
                .collect(),
            reference: if found.is_empty() { 1.0 } else { reference },
        }
    }

    /// The parts of occupation `id`'s score, with its evidence when it has matches.
    fn parts(&self, id: u32, e: Option<&Evidence>) -> ScoreParts {
        let mut parts = e.map_or_else(ScoreParts::default, |e| ScoreParts::of(e, self.w));
        parts.named = self
            .named
            .get(&id)
            .map_or(0.0, |k| self.w.named * self.reference * k);
        parts
    }

    /// The named occupations without a matching statement.
    fn unmatched<'a>(&'a self, found: &'a ByOccupation) -> impl Iterator<Item = u32> + 'a {
        self.named.keys().copied().filter(|&id| !found.contains(id))
    }
}

/// The first `depth` occupations by the score [`score_all`] gives, and how many occupations
/// there are in all, without building every occupation's entry: only the page's evidence
/// leaves the map.
fn top_scored(
    mut found: ByOccupation,
    named: &HashMap<String, (f32, Vec<String>)>,
    ids: &OccupationIds,
    w: &OccupationWeights,
    depth: usize,
) -> (Vec<Scored>, usize) {
    let scorer = Scorer::new(&found, named, ids, w);
    let keys: Vec<(f32, u32)> = found
        .iter()
        .map(|(id, e)| (scorer.parts(id, Some(e)).total(), id))
        .chain(
            scorer
                .unmatched(&found)
                .map(|id| (scorer.parts(id, None).total(), id)),
        )
        .collect();
    let total = keys.len();
    let scored = page(keys, depth, |k| *k)
        .into_iter()
        .map(|(_, id)| {
            let e = found.take(id).unwrap_or_default();
            let p = scorer.parts(id, (e.matched() > 0).then_some(&e));
            (p.total(), id, e, p)
        })
        .collect();
    (scored, total)
}

/// Every occupation's score: those with matching statements by their evidence, plus the
/// titles-and-tools bonus, which also brings named occupations without a matching statement.
fn score_all(
    found: ByOccupation,
    named: &HashMap<String, (f32, Vec<String>)>,
    ids: &OccupationIds,
    w: &OccupationWeights,
) -> Vec<Scored> {
    let scorer = Scorer::new(&found, named, ids, w);
    let unmatched: Vec<u32> = scorer.unmatched(&found).collect();
    found
        .into_iter()
        .map(|(id, e)| {
            let parts = scorer.parts(id, Some(&e));
            (parts.total(), id, e, parts)
        })
        .chain(unmatched.into_iter().map(|id| {
            let parts = scorer.parts(id, None);
            (parts.total(), id, Evidence::default(), parts)
        }))
        .collect()
}

/// The best statements shown with each occupation.
pub const HITS_SHOWN: usize = 3;
/// Each next-best statement of an occupation counts this much less than the one before (1, 1/2,
/// 1/4, …): one strong statement beats many weak ones, yet breadth still counts.
pub const OCCUPATION_DECAY: f32 = 0.5;

/// An occupation's score, its number (in [`OccupationIds`]), its lexical evidence and the parts
/// of its score.
type Scored = (f32, u32, Evidence, ScoreParts);

/// The parts an occupation's score sums.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct ScoreParts {
    statements: f32,
    levels: f32,
    matches: f32,
    named: f32,
    semantic: f32,
}

impl ScoreParts {
    /// The lexical parts of an occupation's evidence (not yet its titles and tools).
    fn of(e: &Evidence, w: &OccupationWeights) -> ScoreParts {
        let statements = lexical_score(e);
        ScoreParts {
            statements,
            levels: statements * w.levels * level_spread(e),
            matches: statements * w.matches * (e.matched().max(1) as f32).ln(),
            ..ScoreParts::default()
        }
    }

    fn total(&self) -> f32 {
        self.statements + self.levels + self.matches + self.named + self.semantic
    }

    /// Hybrid ranking: the lexical parts scaled by `scale`, the semantic part set.
    fn blend(&mut self, scale: f32, semantic: f32) {
        for part in [
            &mut self.statements,
            &mut self.levels,
            &mut self.matches,
            &mut self.named,
        ] {
            *part *= scale;
        }
        self.semantic = semantic;
    }

    fn explained(&self, hybrid: bool) -> OccupationExplain {
        OccupationExplain {
            statements: self.statements,
            levels: self.levels,
            matches: self.matches,
            named: self.named,
            semantic: hybrid.then_some(self.semantic),
        }
    }
}

/// (Levels with a matching statement − 1) / 3: 0 when the matches sit at one level, 1 when
/// they reach all four.
pub(crate) fn level_spread(e: &Evidence) -> f32 {
    let present = crate::domain::level::Level::ALL
        .iter()
        .filter(|l| e.levels().get(**l) > 0)
        .count();
    present.saturating_sub(1) as f32 / 3.0
}

/// Every matching statement grouped by occupation: the first tier's (every unit), then the
/// second tier's (some units) behind them. Visits every match; no pool cuts it short.
pub(crate) fn evidence(
    searcher: &Searcher,
    ids: &Arc<OccupationIds>,
    c: &Compiled,
) -> Result<ByOccupation> {
    let stats = StatementStats::of(searcher)?;
    let collector = |first| Grouped::new(ids.clone(), first);
    let chunk = part_size(searcher.num_docs(), rayon::current_num_threads());
    let first = stats.search_parts(&*c.first, &collector(true), chunk)?;
    let second = match &c.rest {
        Some(q) => stats.search_parts(&**q, &collector(false), chunk)?,
        None => ByOccupation::default(),
    };
    Ok(grouped::tiers(first, second))
}

/// How many documents each part of a segment holds when every match is visited in parallel:
/// about four parts per worker over the whole index, so that the workers stay busy when the
/// segments differ in size, and no fewer than [`MIN_PART`] documents (below that, a part's
/// fixed cost, its scorers and collector, outweighs what it shares).
fn part_size(docs: u64, workers: usize) -> u32 {
    let parts = (workers.max(1) * 4) as u64;
    docs.div_ceil(parts)
        .clamp(u64::from(MIN_PART), u64::from(u32::MAX)) as u32
}

/// The fewest documents in a part of a segment searched on its own.
const MIN_PART: u32 = 16_384;

/// The sum of an occupation's best [`OCCUPATION_TOP`] statement scores (in tier order) weighted
/// 1, 1/2, 1/4, ….
pub(crate) fn lexical_score(e: &Evidence) -> f32 {
    e.best()
        .iter()
        .take(OCCUPATION_TOP)
        .enumerate()
        .map(|(k, b)| b.0 * OCCUPATION_DECAY.powi(k as i32))
        .sum()
}

/// Hybrid ranking: (1 − ratio) × the lexical score ÷ the best one + ratio × the semantic
/// evidence; occupations that only the embedding finds join (within the filters).
fn blend_semantic(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
    p: &hybrid::Prepared,
    addrs: &[DocAddress],
    ids: &OccupationIds,
    scored: &mut Vec<Scored>,
) -> Result<()> {
    // (1 - ratio) × the lexical score ÷ the best one + ratio × the semantic evidence.
    let evidence = hybrid::occupation_evidence(engine, searcher, p, addrs, OCCUPATION_POOL)?;
    let best = scored
        .iter()
        .map(|s| s.0)
        .fold(0.0, f32::max)
        .max(f32::MIN_POSITIVE);
    let r = req.semantic_ratio;
    for entry in scored.iter_mut() {
        let soc = ids.codes[entry.1 as usize].as_str();
        let e = evidence.get(soc).copied().unwrap_or(0.0);
        entry.3.blend((1.0 - r) / best, r * e);
        entry.0 = entry.3.total();
    }
    let known: std::collections::HashSet<u32> = scored.iter().map(|s| s.1).collect();
    let filtered = !req.soc.is_empty() || !req.levels.is_empty() || !req.job_zones.is_empty();
    for (soc, e) in evidence {
        // Statements of the occupation are in the index (they were found), so it has a number.
        let Some(id) = ids.id(&soc) else { continue };
        if !known.contains(&id) && (!filtered || in_filters(engine, searcher, req, &soc)?) {
            let parts = ScoreParts {
                semantic: r * e,
                ..ScoreParts::default()
            };
            scored.push((parts.total(), id, Evidence::default(), parts));
        }
    }
    Ok(())
}

/// An occupation whose titles or tools name the query gains this many times the best
/// occupation's statement evidence (scaled by how well they name it, 0..=1): being called a
/// forklift operator, or using Python, says the skill is the job.
pub const W_NAMED: f32 = 1.0;

/// Per occupation whose alternate titles or tools hold every word of the query: how strongly
/// they name it, relative to the strongest (0..=1), and the titles and tools that do (up to
/// three). Strength is ln(1 + titles that hold the words) + ln(1 + its tools of the kinds of the
/// tools that do). Occupations outside the request's SOC and job-zone filters, or without
/// statements in the index, are left out. Read from the titles-and-tools table written beside the
/// commit ([`crate::index::names`]) when the searcher sees that commit, else from the stored
/// knowledge documents; both give the same answer.
#[allow(clippy::type_complexity)]
pub(crate) fn knowledge_matches(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
) -> Result<HashMap<String, (f32, Vec<String>)>> {
    let mut words = analyzer::query_terms(&req.query);
    words.sort();
    words.dedup();
    if words.is_empty() {
        return Ok(HashMap::new());
    }
    let table = names_table(engine, searcher)?;
    let found = match table.as_ref() {
        Some(table) => {
            let mut found = Vec::new();
            for n in table.named(&words) {
                if wanted(engine, searcher, req, n.soc)? {
                    found.extend(naming(n.soc, &n.titles, &n.tools, n.kin.max(n.tools.len())));
                }
            }
            found
        }
        None => knowledge_from_documents(engine, searcher, req, &words)?,
    };
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

/// The titles-and-tools table of the searcher's generation, when it sees the commit the table
/// was written for and the file is sound.
fn names_table(
    engine: &Engine,
    searcher: &Searcher,
) -> Result<Arc<Option<crate::index::names::Names>>> {
    engine.names.get(searcher, || {
        Ok(crate::index::sidecar::token_seen(&engine.index, searcher)
            .and_then(|token| crate::index::names::Names::read(&engine.path, &token)))
    })
}

/// Builds, for `engine`'s current index generation, the tables that a long-running process
/// otherwise builds at its first query of the generation: occupation numbers, the
/// titles-and-tools table and the typo vocabulary (`serve` calls it at start and after each
/// commit, so that no request pays for them). Returns the generation; does nothing for a
/// table already built for it.
pub fn warm(engine: &Engine) -> Result<u64> {
    let searcher = engine.searcher();
    engine.occupation_ids.get(&searcher, || {
        OccupationIds::build(&searcher, &engine.fields)
    })?;
    names_table(engine, &searcher)?;
    if !engine.one_shot {
        engine.typo_vocabulary.get(&searcher, || {
            super::typo::Vocabulary::build(&searcher, engine.fields.statement)
        })?;
    }
    Ok(searcher.generation().generation_id())
}

/// Whether occupation ranking reads the titles-and-tools table for `engine`'s current searcher
/// (else the stored knowledge documents), for tests and diagnostics.
pub fn reads_names_table(engine: &Engine) -> Result<bool> {
    Ok(names_table(engine, &engine.searcher())?.is_some())
}

/// Is `soc` within the request's SOC filters, with statements in the index within its other
/// filters?
fn wanted(engine: &Engine, searcher: &Searcher, req: &SearchRequest, soc: &str) -> Result<bool> {
    // The request is validated: its SOC filters are prefixes.
    let in_filter = req.soc.is_empty() || req.soc.iter().any(|p| soc.starts_with(p.as_str()));
    Ok(in_filter && in_filters(engine, searcher, req, soc)?)
}

/// An occupation's naming strength and the names shown for it (titles first, up to three), from
/// its titles and tools that hold the query and the count of its tools of their kinds.
fn naming<T: AsRef<str>, U: AsRef<str>>(
    soc: &str,
    titles: &[T],
    tools: &[U],
    kin: usize,
) -> Option<(String, f32, Vec<String>)> {
    let strength = (1.0 + titles.len() as f32).ln() + (1.0 + kin as f32).ln();
    (strength > 0.0).then(|| {
        let names = titles
            .iter()
            .map(|t| t.as_ref().to_string())
            .chain(tools.iter().map(|t| t.as_ref().to_string()))
            .take(3)
            .collect();
        (soc.to_string(), strength, names)
    })
}

/// [`knowledge_matches`] read from the stored knowledge documents (strengths not yet relative).
fn knowledge_from_documents(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
    words: &[String],
) -> Result<Vec<(String, f32, Vec<String>)>> {
    let f = &engine.fields;
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
    // Every matching document (postings, then one stored read each). A title or tool that holds
    // every word is in a document that matches, so the others are read only to count the kin of
    // a matching tool; and tools are parsed only where the tool words match.
    let tool_docs: std::collections::HashSet<DocAddress> = searcher
        .search(&all_words(f.tool), &tantivy::collector::DocSetCollector)?
        .into_iter()
        .collect();
    let q = BooleanQuery::new(vec![
        (Occur::Should, all_words(f.alt_title)),
        (Occur::Should, all_words(f.tool)),
    ]);
    let docs = knowledge::matching(searcher, f, &q, |a| tool_docs.contains(&a))?;
    // Only the titles and tools that hold every word are kept before merging: whether a name
    // holds does not change with its ASCII case, so the merge keeps the same ones in the same
    // order as merging everything and filtering after.
    let mut held: foldhash::HashMap<String, bool> = foldhash::HashMap::default();
    // Every tool of the documents read with their tools, by occupation (with those documents):
    // when they are all of an occupation's knowledge documents, the kin of its named tools are
    // counted from them instead of reading the occupation again.
    let mut read_tools: HashMap<String, (Vec<DocAddress>, Vec<crate::domain::framework::Tool>)> =
        HashMap::new();
    let docs = docs
        .into_iter()
        .map(|(addr, mut d)| {
            d.titles.retain(|t| holds(&mut held, words, t));
            let all = std::mem::take(&mut d.tools);
            d.tools = all
                .iter()
                .filter(|t| {
                    holds(&mut held, words, &t.name) || holds(&mut held, words, &t.category)
                })
                .cloned()
                .collect();
            if tool_docs.contains(&addr) {
                let entry = read_tools.entry(d.soc.clone()).or_default();
                entry.0.push(addr);
                entry.1.extend(all);
            }
            d
        })
        .collect();
    let matched = knowledge::merge(docs);
    let mut found: Vec<(String, f32, Vec<String>)> = Vec::new();
    for (soc, k) in &matched {
        if k.titles.is_empty() && k.tools.is_empty() {
            // Its words are spread over several names: none of them names the query.
            continue;
        }
        // Only occupations with statements in the index (in the job zones asked for) rank.
        if !wanted(engine, searcher, req, soc)? {
            continue;
        }
        let (titles, tools) = (&k.titles, &k.tools);
        // Tools of the same kinds as the named ones: Python among forty development tools is
        // central to the work, Python beside a motor catalogue is not. They may stand in
        // documents that did not match.
        let kinds: std::collections::HashSet<&str> = tools
            .iter()
            .map(|t| t.category.as_str())
            .filter(|c| !c.is_empty())
            .collect();
        let kin = if kinds.is_empty() {
            0
        } else {
            kin_count(searcher, f, soc, &kinds, read_tools.get(soc.as_str()))?
        };
        let tool_names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
        found.extend(naming(soc, titles, &tool_names, kin.max(tools.len())));
    }
    Ok(found)
}

/// How many distinct tools of an occupation are of one of `kinds`: from `read` (the documents
/// already read with their tools, and those tools) when they are all of its knowledge documents,
/// else from its knowledge read again.
fn kin_count(
    searcher: &Searcher,
    f: &crate::index::schema::Fields,
    soc: &str,
    kinds: &std::collections::HashSet<&str>,
    read: Option<&(Vec<DocAddress>, Vec<crate::domain::framework::Tool>)>,
) -> Result<usize> {
    // Distinct tools, as the merge of the occupation's documents keeps them.
    let count = |all: &[crate::domain::framework::Tool]| {
        all.iter()
            .filter(|t| kinds.contains(t.category.as_str()))
            .collect::<std::collections::HashSet<_>>()
            .len()
    };
    if let Some((addrs, all)) = read
        && knowledge::addresses_of(searcher, f, soc)?
            .iter()
            .all(|a| addrs.contains(a))
    {
        return Ok(count(all));
    }
    Ok(count(&knowledge::of(searcher, f, soc)?.tools))
}

/// Does the occupation have a statement within the request's filters (SOC, level, job zone)?
pub(crate) fn in_filters(
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

/// Does `name` hold every one of `words` (stemmed)? Names repeat across occupations, so each is
/// tokenized once per query and remembered in `held`.
fn holds(held: &mut foldhash::HashMap<String, bool>, words: &[String], name: &str) -> bool {
    if let Some(&h) = held.get(name) {
        return h;
    }
    let terms = analyzer::query_terms(name);
    let h = words.iter().all(|w| terms.contains(w));
    held.insert(name.to_string(), h);
    h
}

/// The first statement of an occupation (for its title, group and job zone); an error when the
/// index has none.
pub(crate) fn first_statement(
    engine: &Engine,
    searcher: &Searcher,
    soc: &str,
) -> Result<SearchHit> {
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
