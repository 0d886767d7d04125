//! Occupation ranking: the best matching statements grouped by occupation, plus the
//! occupations whose titles or tools name the query.

use std::collections::HashMap;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, TantivyDocument, Term};

use crate::domain::level::{Level, LevelCounts};
use crate::error::{Error, Result};
use crate::index::engine::Engine;
use crate::index::{analyzer, knowledge, store};

use super::query::{compile, filter_clauses};
use super::rank::{Ranked, rank};
use super::request::SearchRequest;
use super::{
    OCCUPATION_POOL, OCCUPATION_TOP, OccupationHit, OccupationResults, Ranking, SearchHit, hits,
    hybrid,
};

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
    let addrs: Vec<DocAddress> = ranked.docs.iter().map(|d| d.1).collect();
    let (mut scored, mut levels) = group_by_occupation(engine, &searcher, &ranked, &addrs)?;
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
        blend_semantic(engine, &searcher, req, p, &addrs, &mut scored)?;
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
        let best: Vec<_> = idx
            .iter()
            .take(HITS_SHOWN)
            .map(|&i| ranked.docs[i])
            .collect();
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

/// The best statements shown with each occupation.
pub const HITS_SHOWN: usize = 3;
/// Each next-best statement of an occupation counts this much less than the one before (1, 1/2,
/// 1/4, …): one strong statement beats many weak ones, yet breadth still counts.
pub const OCCUPATION_DECAY: f32 = 0.5;

/// An occupation's lexical score, its code and its statements' places in the ranked pool.
type Scored = (f32, String, Vec<usize>);

/// Groups the ranked pool by occupation through the fast columns (stored documents are read only
/// for what is shown): each occupation scores the sum of its best [`OCCUPATION_TOP`] statement
/// scores weighted 1, 1/2, 1/4, …, and its matches are counted per level.
fn group_by_occupation(
    engine: &Engine,
    searcher: &Searcher,
    ranked: &Ranked,
    addrs: &[DocAddress],
) -> Result<(Vec<Scored>, HashMap<String, LevelCounts>)> {
    let socs = store::socs_of(searcher, &engine.fields, addrs)?;
    let mut level_columns = Vec::new();
    for seg in searcher.segment_readers() {
        level_columns.push(store::u64_column(seg, searcher, engine.fields.level_ord)?);
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
    let scored: Vec<Scored> = groups
        .into_iter()
        .map(|(soc, idx)| {
            // ranked.docs is in rank order, so idx is too.
            let score = idx
                .iter()
                .take(OCCUPATION_TOP)
                .enumerate()
                .map(|(k, &i)| ranked.docs[i].0 * OCCUPATION_DECAY.powi(k as i32))
                .sum();
            (score, soc, idx)
        })
        .collect();
    Ok((scored, levels))
}

/// Hybrid ranking: (1 − ratio) × the lexical score ÷ the best one + ratio × the semantic
/// evidence; occupations that only the embedding finds join (within the filters).
fn blend_semantic(
    engine: &Engine,
    searcher: &Searcher,
    req: &SearchRequest,
    p: &hybrid::Prepared,
    addrs: &[DocAddress],
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
        let e = evidence.get(&entry.1).copied().unwrap_or(0.0);
        entry.0 = (1.0 - r) * entry.0 / best + r * e;
    }
    let known: std::collections::HashSet<String> = scored.iter().map(|s| s.1.clone()).collect();
    for (soc, e) in evidence {
        let filtered = !req.soc.is_empty() || !req.levels.is_empty() || !req.job_zones.is_empty();
        if !known.contains(soc.as_str()) && (!filtered || in_filters(engine, searcher, req, &soc)?)
        {
            scored.push((r * e, soc, Vec::new()));
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
/// statements in the index, are left out.
#[allow(clippy::type_complexity)]
pub(crate) fn knowledge_matches(
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
    let docs = docs
        .into_iter()
        .map(|(_, mut d)| {
            d.titles.retain(|t| holds(&mut held, &words, t));
            d.tools.retain(|t| {
                holds(&mut held, &words, &t.name) || holds(&mut held, &words, &t.category)
            });
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
        // The request is validated: its SOC filters are prefixes.
        let in_filter = req.soc.is_empty() || req.soc.iter().any(|p| soc.starts_with(p.as_str()));
        // Only occupations with statements in the index (in the job zones asked for) rank.
        if !in_filter || !in_filters(engine, searcher, req, soc)? {
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
            Vec::new()
        } else {
            knowledge::of(searcher, f, soc)?.tools
        };
        let kin = kin
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
            found.push((soc.clone(), strength, names));
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
