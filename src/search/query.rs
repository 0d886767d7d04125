//! From query text to tantivy queries: the units (stemmed words and phrases), the filters, the
//! tiers and the bonus clauses of a ranking, compiled once per request.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, FuzzyTermQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Value};
use tantivy::{Searcher, TantivyDocument, Term};

use crate::error::Result;
use crate::index::analyzer;
use crate::index::engine::Engine;
use crate::index::schema::Fields;

use super::highlight::Highlighter;
use super::request::SearchRequest;
use super::{MAX_BONUS_SUBSET_TERMS, Ranking, W_FUZZY};

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

/// The clauses that the pruned passes of a tier combine (`first_tier`'s, and the second
/// tier's, which has no constant clauses).
pub(crate) struct PassTerms {
    /// Each exactly found word's statement term.
    pub(crate) units: Vec<Box<dyn Query>>,
    /// Each typo-tolerant word's clause: its matches at a constant score.
    pub(crate) constant: Vec<Box<dyn Query>>,
    /// The weighted bonus clauses: title terms, alternate titles, the phrase.
    pub(crate) bonus: Vec<Box<dyn Query>>,
}

/// The queries of one request, built once.
pub(crate) struct Compiled {
    /// First tier, scored on the statement text alone: every unit required. For plain words and
    /// no filters this is a bare term query or a pure term intersection, which tantivy answers
    /// with block-max WAND pruning.
    pub(crate) all_plain: Box<dyn Query>,
    /// First tier restricted to statements that match at least one bonus clause, scored with
    /// every bonus they match added; `None` without bonus clauses.
    pub(crate) all_bonus: Option<Box<dyn Query>>,
    /// The whole first tier, each statement scored with the bonuses it matches (the score
    /// `first_tier` gives it), for collectors that visit every match.
    pub(crate) first: Box<dyn Query>,
    /// When every unit is a word (found as it is or typo-tolerant), there are no filters, at
    /// most `MAX_BONUS_SUBSET_TERMS` bonus clauses, and a bonus clause or a typo-tolerant word
    /// (else `all_plain` is a pure term query tantivy prunes itself): the clauses of the pruned
    /// passes of `first_tier`.
    pub(crate) pruned_passes: Option<PassTerms>,
    /// Second tier: some but not every unit, bonuses included; `None` for one-unit queries.
    pub(crate) rest: Option<Box<dyn Query>>,
    /// When the query has several units, all words found as they are, no filters and at most
    /// `MAX_BONUS_SUBSET_TERMS` bonus clauses: the clauses of the second tier's pruned passes
    /// (`constant` is empty).
    pub(crate) rest_passes: Option<PassTerms>,
    /// Statements with any unit, for counting (unscored use only).
    pub(crate) any: Option<Box<dyn Query>>,
    pub(crate) highlighter: Highlighter,
}

pub(crate) fn term_query(field: Field, t: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, t),
        IndexRecordOption::WithFreqs,
    ))
}

pub(crate) fn boost(q: Box<dyn Query>, by: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, by))
}

pub(crate) fn should(qs: Vec<Box<dyn Query>>) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        qs.into_iter().map(|q| (Occur::Should, q)).collect(),
    ))
}

/// Filters as zero-scoring required clauses (exact term matches, never approximate), of a
/// validated request (its SOC filters are prefixes).
pub(crate) fn filter_clauses(f: &Fields, req: &SearchRequest) -> Result<Vec<Box<dyn Query>>> {
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

/// Words shorter than this are never looked up with typo tolerance: too many short words are
/// one edit apart.
const FUZZY_MIN_CHARS: usize = 4;
/// Words this long or longer tolerate two edits; shorter ones one.
const FUZZY_TWO_EDITS_CHARS: usize = 7;

/// The clauses of a query's units, and what the rest of compilation needs to know of them.
struct UnitClauses<'u> {
    /// One clause per unit: a term, a typo-tolerant term, or a phrase.
    unit_queries: Vec<Box<dyn Query>>,
    /// Clauses that only add to statements matching on their own text (see `Ranking`).
    bonus: Vec<Box<dyn Query>>,
    /// The words found as they are (not through typo tolerance).
    exact_words: Vec<&'u str>,
    highlighter: Highlighter,
    /// Words only (found as they are or typo-tolerant) and no filters: the first tier can run
    /// pruned passes.
    words_only: bool,
    /// Whether each of `unit_queries` is a typo-tolerant word.
    typo_tolerant: Vec<bool>,
}

/// Each unit as a clause: a word the index holds as a term (with the title bonus when the
/// ranking has one), a word it does not as a typo-tolerant term at a constant score, a phrase
/// as a phrase.
fn unit_clauses<'u>(
    f: &Fields,
    searcher: &Searcher,
    typo: &dyn Fn() -> Result<Option<std::sync::Arc<super::typo::Vocabulary>>>,
    units: &'u [Unit],
    ranking: &Ranking,
    unfiltered: bool,
) -> Result<UnitClauses<'u>> {
    let mut highlighter = Highlighter::default();
    let mut unit_queries: Vec<Box<dyn Query>> = Vec::new();
    let mut bonus: Vec<Box<dyn Query>> = Vec::new();
    let mut exact_words: Vec<&str> = Vec::new();
    let mut words_only = unfiltered;
    let mut typo_tolerant = Vec::new();
    for unit in units {
        match unit {
            Unit::Word(w) => {
                let df = searcher.doc_freq(&Term::from_field_text(f.statement, w))?;
                let chars = w.chars().count();
                if df == 0 && chars >= FUZZY_MIN_CHARS {
                    let distance = if chars >= FUZZY_TWO_EDITS_CHARS { 2 } else { 1 };
                    let fuzzy =
                        FuzzyTermQuery::new(Term::from_field_text(f.statement, w), distance, true);
                    // The terms it matches, found in the generation's deletions instead of by
                    // walking every segment's dictionary (unless this process answers one
                    // query: building them costs more than one walk); their documents are
                    // kept for the passes after the first.
                    let memo = match typo()? {
                        Some(vocabulary) => {
                            let near = vocabulary
                                .near(w, distance)
                                .into_iter()
                                .map(|t| Term::from_field_text(f.statement, t))
                                .collect();
                            super::memo::Memo::with_terms(fuzzy, near)
                        }
                        None => super::memo::Memo::new(fuzzy),
                    };
                    unit_queries.push(boost(Box::new(memo), W_FUZZY));
                    typo_tolerant.push(true);
                    highlighter.fuzzy.push((w.clone(), distance as usize));
                } else {
                    unit_queries.push(term_query(f.statement, w));
                    typo_tolerant.push(false);
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
                typo_tolerant.push(false);
                highlighter.exact.extend(words.iter().cloned());
                words_only = false;
            }
        }
    }
    Ok(UnitClauses {
        unit_queries,
        bonus,
        exact_words,
        highlighter,
        words_only,
        typo_tolerant,
    })
}

/// The clauses of the first and second tiers' pruned passes, for the tiers that can run them
/// (see `Compiled::pruned_passes` and `Compiled::rest_passes`).
fn pass_terms(
    unit_queries: &[Box<dyn Query>],
    typo_tolerant: &[bool],
    bonus: &[Box<dyn Query>],
    words_only: bool,
) -> (Option<PassTerms>, Option<PassTerms>) {
    // With typo-tolerant words alone and no bonus, every match scores the same and passes
    // would prune nothing.
    let (some_typo, some_exact) = (
        typo_tolerant.contains(&true),
        typo_tolerant.contains(&false),
    );
    let prunable = words_only
        && bonus.len() <= MAX_BONUS_SUBSET_TERMS
        && (!bonus.is_empty() || (some_typo && some_exact));
    let of = |typo: bool| {
        unit_queries
            .iter()
            .zip(typo_tolerant)
            .filter(|(_, t)| **t == typo)
            .map(|(q, _)| q.box_clone())
            .collect()
    };
    let bonus_clauses = || bonus.iter().map(|q| q.box_clone()).collect();
    let first = prunable.then(|| PassTerms {
        units: of(false),
        constant: of(true),
        bonus: bonus_clauses(),
    });
    let rest = (words_only
        && !some_typo
        && unit_queries.len() > 1
        && bonus.len() <= MAX_BONUS_SUBSET_TERMS)
        .then(|| PassTerms {
            units: of(false),
            constant: Vec::new(),
            bonus: bonus_clauses(),
        });
    (first, rest)
}

pub(crate) fn compile(
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
    let UnitClauses {
        unit_queries,
        mut bonus,
        exact_words,
        highlighter,
        words_only,
        typo_tolerant,
    } = unit_clauses(
        f,
        searcher,
        &|| {
            if engine.one_shot {
                return Ok(None);
            }
            let build = || super::typo::Vocabulary::build(searcher, f.statement);
            engine.typo_vocabulary.get(searcher, build).map(Some)
        },
        &units,
        ranking,
        filters.is_empty(),
    )?;
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
    let (pruned_passes, rest_passes) =
        pass_terms(&unit_queries, &typo_tolerant, &bonus, words_only);
    let bonus_union = (!bonus.is_empty()).then(|| should(bonus));
    let all_bonus = bonus_union.as_ref().map(|t| {
        let mut clauses = musts(&unit_queries);
        clauses.push((Occur::Must, t.box_clone()));
        with_filters(clauses)
    });
    let first = match &bonus_union {
        Some(t) => {
            let mut clauses = musts(&unit_queries);
            clauses.push((Occur::Should, t.box_clone()));
            with_filters(clauses)
        }
        None => all_plain.box_clone(),
    };
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
        first,
        pruned_passes,
        rest,
        rest_passes,
        any,
        highlighter,
    }))
}

/// Occupations whose alternate titles hold query words score `weight` × the BM25 of those words
/// over their titles (the best of their knowledge documents), as one clause: a union of
/// constant-scored SOC terms, at most `ALT_TITLE_OCCUPATIONS` of them.
pub(crate) fn alt_title_bonus(
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
