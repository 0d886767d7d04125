//! A query whose matches are worked out once per segment and kept for the rest of one search:
//! a typo-tolerant word walks the term dictionary with a Levenshtein automaton every time a
//! scorer is made, and a search makes one for ranking and another for counting.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::index::SegmentId;
use tantivy::query::{
    BitSetDocSet, ConstScorer, EnableScoring, Explanation, Query, Scorer, Weight,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TERMINATED, Term};

/// Per segment, the documents the query matches.
type Matches = Arc<Mutex<HashMap<SegmentId, Arc<BitSet>>>>;

/// `inner`'s matches at a constant score (the boost), each segment's found once. Only for
/// queries that score every match the same, as tantivy's `FuzzyTermQuery` does; build one per
/// search (the kept matches belong to the searcher's segments).
#[derive(Clone)]
pub(crate) struct Memo {
    inner: Arc<dyn Query>,
    /// When given: the field and terms whose postings are `inner`'s matches, read instead of
    /// `inner`'s scorer (which for a typo-tolerant word walks the term dictionary).
    terms: Option<Arc<(Field, Vec<Term>)>>,
    matches: Matches,
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").field("inner", &self.inner).finish()
    }
}

impl Memo {
    pub(crate) fn new(inner: impl Query) -> Memo {
        Memo {
            inner: Arc::new(inner),
            terms: None,
            matches: Matches::default(),
        }
    }

    /// `inner`, whose matches are the documents holding any of `terms` in `field` (its
    /// explanations are still `inner`'s).
    pub(crate) fn with_terms(inner: impl Query, field: Field, terms: Vec<Term>) -> Memo {
        Memo {
            terms: Some(Arc::new((field, terms))),
            ..Memo::new(inner)
        }
    }
}

impl Query for Memo {
    fn weight(&self, scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(MemoWeight {
            inner: self.inner.weight(scoring)?,
            terms: self.terms.clone(),
            matches: self.matches.clone(),
        }))
    }
}

struct MemoWeight {
    inner: Box<dyn Weight>,
    terms: Option<Arc<(Field, Vec<Term>)>>,
    matches: Matches,
}

impl MemoWeight {
    fn matches(&self, reader: &SegmentReader) -> tantivy::Result<Arc<BitSet>> {
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
        match &self.terms {
            Some(terms) => {
                // Block by block, as tantivy's automaton weight reads its terms' postings.
                let index = reader.inverted_index(terms.0)?;
                for t in &terms.1 {
                    if let Some(mut block) =
                        index.read_block_postings(t, IndexRecordOption::Basic)?
                    {
                        loop {
                            let block_docs = block.docs();
                            if block_docs.is_empty() {
                                break;
                            }
                            for &doc in block_docs {
                                docs.insert(doc);
                            }
                            block.advance();
                        }
                    }
                }
            }
            None => {
                let mut scorer = self.inner.scorer(reader, 1.0)?;
                let mut doc = scorer.doc();
                while doc != TERMINATED {
                    docs.insert(doc);
                    doc = scorer.advance();
                }
            }
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
        let docs = self.matches(reader)?;
        Ok(Box::new(ConstScorer::new(
            BitSetDocSet::from(docs.as_ref().clone()),
            boost,
        )))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        self.inner.explain(reader, doc)
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
    }
}
