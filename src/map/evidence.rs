//! The evidence stage of `map`: the statements of the best matches that the posting's terms
//! score (one query for all of them), the best three of each as its evidence with highlights,
//! the mean level of what matched, and the gap: the statements it does not match.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, TantivyDocument, Term};

use crate::domain::level::Level;
use crate::error::Result;
use crate::index::analyzer;
use crate::index::store;
use crate::search::highlight::Highlighter;
use crate::search::{SearchHit, highlight};

use super::{Evidence, Gap, Mapper, level};

/// Evidence statements shown per match.
pub const EVIDENCE_SHOWN: usize = 3;
/// Gap statements shown per match.
pub const GAP_SHOWN: usize = 5;

/// What one match's statements say about the posting.
pub struct Found {
    pub evidence: Vec<Evidence>,
    /// The mean level of the matched statements (see [`level::mean_level`]).
    pub mean_level: Option<f32>,
    /// Unmatched statements as (level, address), in level then position order; only the few
    /// shown are read.
    pub gap: Vec<(Level, DocAddress)>,
}

impl Mapper {
    /// Every statement of the occupations `occs` that the posting's terms score, with its BM25
    /// score (the collection's statistics), in one query: the occupation filter scores 0, so a
    /// statement's score is the posting's evidence alone.
    pub(super) fn statement_scores(
        &self,
        occs: &[usize],
        weighted: &[(String, f32)],
    ) -> Result<HashMap<DocAddress, f32>> {
        let mut scored = HashMap::new();
        if weighted.is_empty() || occs.is_empty() {
            return Ok(scored);
        }
        let f = &self.fields;
        let socs: Vec<(Occur, Box<dyn Query>)> = occs
            .iter()
            .map(|&o| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    f.soc_term(&self.occupations[o].soc),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, q)
            })
            .collect();
        let q = BooleanQuery::new(vec![
            (
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(BooleanQuery::new(socs)), 0.0)),
            ),
            (
                Occur::Must,
                Box::new(BooleanQuery::new(weighted_union(f.statement, weighted))),
            ),
        ]);
        let n: usize = occs.iter().map(|&o| self.occ_docs[o].len()).sum();
        for (s, addr) in crate::index::engine::StatementStats::of(&self.searcher)?
            .search(&q, &TopDocs::with_limit(n.max(1)).order_by_score())?
        {
            scored.insert(addr, s);
        }
        Ok(scored)
    }

    /// One occupation's evidence, mean matched level and gap, from the statement scores.
    pub(super) fn found(
        &self,
        occ: usize,
        scored: &HashMap<DocAddress, f32>,
        highlighter: &Highlighter,
    ) -> Result<Found> {
        let f = &self.fields;
        let mut per_level = [0.0f32; 4];
        let mut per_level_n = [0usize; 4];
        let mut hits = Vec::new();
        let mut gap = Vec::new();
        for &(level, _, addr) in &self.occ_docs[occ] {
            per_level_n[level.index()] += 1;
            match scored.get(&addr) {
                Some(&s) => {
                    per_level[level.index()] += s;
                    hits.push((s, addr));
                }
                None => gap.push((level, addr)),
            }
        }
        hits.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        let evidence = hits
            .into_iter()
            .take(EVIDENCE_SHOWN)
            .map(|(s, addr)| {
                let doc: TantivyDocument = self.searcher.doc(addr)?;
                let mut hit = SearchHit::read(f, &doc);
                analyzer::with_index_analyzer(|a| highlight(&mut hit, highlighter, a));
                Ok(Evidence {
                    level: hit.level,
                    statement: hit.statement,
                    score: s,
                    snippet: hit.snippet,
                    highlights: hit.highlights,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Found {
            evidence,
            mean_level: level::mean_level(per_level, per_level_n),
            gap,
        })
    }

    /// The gap shown for a match of level `level`: unmatched statements of that level and the
    /// next one up.
    pub(super) fn gap_shown(
        &self,
        gap: Vec<(Level, DocAddress)>,
        level: Level,
    ) -> Result<Vec<Gap>> {
        gap.into_iter()
            .filter(|(l, _)| *l == level || l.index() == level.index() + 1)
            .take(GAP_SHOWN)
            .map(|(level, addr)| {
                let doc: TantivyDocument = self.searcher.doc(addr)?;
                Ok(Gap {
                    level,
                    statement: store::text(&doc, self.fields.statement),
                })
            })
            .collect()
    }
}

/// Should-clauses for the posting's terms on one field, each boosted by the square root of its
/// weight relative to the heaviest (so rare, repeated terms lead without drowning the rest).
pub fn weighted_union(
    field: tantivy::schema::Field,
    weighted: &[(String, f32)],
) -> Vec<(Occur, Box<dyn Query>)> {
    let max_w = weighted
        .first()
        .map_or(1.0, |(_, w)| *w)
        .max(f32::MIN_POSITIVE);
    weighted
        .iter()
        .map(|(t, w)| {
            let q: Box<dyn Query> = Box::new(TermQuery::new(
                Term::from_field_text(field, t),
                IndexRecordOption::WithFreqs,
            ));
            (
                Occur::Should,
                Box::new(BoostQuery::new(q, (w / max_w).sqrt())) as Box<dyn Query>,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::domain::level::Level;
    use crate::index::fixture_engine;
    use crate::map::Mapper;
    use crate::search::highlight::Highlighter;

    #[test]
    fn scores_stay_within_the_occupations_asked_and_every_statement_is_evidence_or_gap() {
        let (_tmp, engine) = fixture_engine();
        let mapper = Mapper::new(&engine).unwrap();
        let nurse = crate::map::occupation_index(&mapper, "29-1141.00");
        let weighted = vec![("patient".to_string(), 2.0), ("inspect".to_string(), 1.0)];
        let scored = mapper.statement_scores(&[nurse], &weighted).unwrap();
        assert!(!scored.is_empty());
        let own: std::collections::HashSet<_> =
            mapper.occ_docs[nurse].iter().map(|d| d.2).collect();
        assert!(
            scored.keys().all(|a| own.contains(a)),
            "only the nurse's statements"
        );
        assert!(mapper.statement_scores(&[nurse], &[]).unwrap().is_empty());

        let highlighter = Highlighter {
            exact: std::iter::once("patient".to_string()).collect(),
            fuzzy: Vec::new(),
        };
        let found = mapper.found(nurse, &scored, &highlighter).unwrap();
        assert_eq!(found.gap.len() + scored.len(), own.len());
        assert!(found.evidence.len() <= super::EVIDENCE_SHOWN);
        assert!(found.evidence.windows(2).all(|w| w[0].score >= w[1].score));
        assert!(found.evidence[0].snippet.contains("<mark>"));
        assert!(found.mean_level.is_some_and(|l| (1.0..=4.0).contains(&l)));
        let gap = mapper.gap_shown(found.gap, Level::Developing).unwrap();
        assert!(gap.len() <= super::GAP_SHOWN);
        assert!(
            gap.iter()
                .all(|g| matches!(g.level, Level::Developing | Level::Proficient))
        );
    }
}
