//! A typo-tolerant word's query: its matches read from the postings of the terms it is known
//! to match, or, when those are not known, worked out once per segment and kept for the rest
//! of one search (a fuzzy query walks the term dictionary with a Levenshtein automaton every
//! time a scorer is made, and a search makes one for ranking and another for counting).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, BooleanQuery, ConstScorer, EnableScoring, Explanation, Occur, Query, Scorer,
    TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// Per segment, the documents the query matches.
type Matches = Arc<Mutex<HashMap<SegmentId, Arc<BitSet>>>>;

/// `inner`'s matches at a constant score (the boost). Only for queries that score every match
/// the same, as tantivy's `FuzzyTermQuery` does; build one per search (the kept matches belong
/// to the searcher's segments).
#[derive(Clone)]
pub(crate) struct Memo {
    inner: Arc<dyn Query>,
    /// When given: the terms whose postings are `inner`'s matches, read as a union of
    /// postings instead of through `inner`.
    terms: Option<Arc<Vec<Term>>>,
    matches: Matches,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").field("inner", &self.inner).finish()
    }
}

impl Memo {
    /// `inner`'s matches, each segment's found once.
    pub(crate) fn new(inner: impl Query) -> Memo {
        Memo {
            inner: Arc::new(inner),
            terms: None,
            matches: Matches::default(),
        }
    }

    /// `inner`, whose matches are the documents holding any of `terms` (its explanations are
    /// still `inner`'s).
    pub(crate) fn with_terms(inner: impl Query, terms: Vec<Term>) -> Memo {
        Memo {
            terms: Some(Arc::new(terms)),
            ..Memo::new(inner)
        }
    }
}

impl Query for Memo {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let source = match &self.terms {
            // The union of the terms' postings, read lazily: an intersection with another word
            // skips through them instead of reading every one (a frequent word's postings
            // copied into a set cost milliseconds at 2M statements). `inner`'s weight is made
            // only to explain: a fuzzy query's weight builds its Levenshtein automaton.
            Some(terms) => Source::Terms {
                union: BooleanQuery::new(
                    terms
                        .iter()
                        .map(|t| {
                            let q = TermQuery::new(t.clone(), IndexRecordOption::Basic);
                            (Occur::Should, Box::new(q) as Box<dyn Query>)
                        })
                        .collect(),
                )
                .weight(EnableScoring::disabled_from_schema(scoring.schema()))?,
                explains: self.inner.clone(),
            },
            None => Source::Weight(self.inner.weight(scoring)?),
        };
        Ok(Box::new(MemoWeight {
            source,
            matches: self.matches.clone(),
        }))
    }
}

/// Where a weight finds its matches.
enum Source {
    /// The union of the given terms' postings; the query only explains.
    Terms {
        union: Box<dyn Weight>,
        explains: Arc<dyn Query>,
    },
    /// The inner query's own weight, its matches kept per segment.
    Weight(Box<dyn Weight>),
}

struct MemoWeight {
    source: Source,
    matches: Matches,
}

impl MemoWeight {
    /// The kept matches of `inner` in a segment, found at the first call.
    fn matches(&self, inner: &dyn Weight, reader: &SegmentReader) -> tantivy::Result<Arc<BitSet>> {
        let id = reader.segment_id();
        if let Some(m) = self
            .matches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
        {
            return Ok(m.clone());
        }
        let mut docs = BitSet::with_max_value(reader.max_doc());
        let mut scorer = inner.scorer(reader, 1.0)?;
        let mut doc = scorer.doc();
        while doc != TERMINATED {
            docs.insert(doc);
            doc = scorer.advance();
        }
        let docs = Arc::new(docs);
        self.matches
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, docs.clone());
        Ok(docs)
    }
}

impl Weight for MemoWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        Ok(match &self.source {
            Source::Terms { union, .. } => {
                Box::new(ConstScorer::new(union.scorer(reader, 1.0)?, boost))
            }
            Source::Weight(inner) => Box::new(ConstScorer::new(
                BitSetDocSet::from(self.matches(inner.as_ref(), reader)?.as_ref().clone()),
                boost,
            )),
        })
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        match &self.source {
            Source::Weight(w) => w.explain(reader, doc),
            // Every match scores the same (see `Memo`), so no statistics are needed.
            Source::Terms { explains: q, .. } => q
                .weight(EnableScoring::disabled_from_schema(reader.schema()))?
                .explain(reader, doc),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::{Count, TopDocs};
    use tantivy::query::FuzzyTermQuery;
    use tantivy::schema::{Schema, TEXT};
    use tantivy::{Index, TantivyDocument, Term};

    #[test]
    fn matches_and_scores_as_the_query_it_keeps_and_finds_them_once() {
        let mut b = Schema::builder();
        let text = b.add_text_field("text", TEXT);
        let index = Index::create_in_ram(b.build());
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for (i, t) in [
            "contraband goods",
            "cargo",
            "contrabands",
            "contra band",
            "x",
        ]
        .iter()
        .cycle()
        .take(50)
        .enumerate()
        {
            let mut d = TantivyDocument::default();
            d.add_text(text, t);
            w.add_document(d).unwrap();
            if i % 17 == 16 {
                w.commit().unwrap();
            }
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        let fuzzy = || FuzzyTermQuery::new(Term::from_field_text(text, "contrabnd"), 2, true);
        let memo = Memo::new(fuzzy());
        let top = TopDocs::with_limit(100).order_by_score();
        let want = searcher.search(&fuzzy(), &top).unwrap();
        assert!(!want.is_empty());
        for _ in 0..2 {
            assert_eq!(searcher.search(&memo, &top).unwrap(), want);
            assert_eq!(
                searcher.search(&memo, &Count).unwrap(),
                searcher.search(&fuzzy(), &Count).unwrap()
            );
        }
        // One entry per segment, each found once.
        assert_eq!(
            memo.matches.lock().unwrap().len(),
            searcher.segment_readers().len()
        );
        // Given the terms the automaton accepts, the same matches, scores and explanations.
        let terms = ["contraband", "contrabands"]
            .map(|t| Term::from_field_text(text, t))
            .to_vec();
        let given = Memo::with_terms(fuzzy(), terms);
        assert_eq!(searcher.search(&given, &top).unwrap(), want);
        for (_, addr) in &want {
            assert_eq!(
                format!("{:?}", given.explain(&searcher, *addr).unwrap()),
                format!("{:?}", fuzzy().explain(&searcher, *addr).unwrap())
            );
        }
    }
}
