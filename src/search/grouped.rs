//! Every matching statement grouped by occupation: a tantivy collector that keeps each
//! occupation's best statement scores and counts its matches per level, with no pool to cut at.

use std::sync::Arc;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::{DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader};

use crate::domain::level::{Level, LevelCounts};
use crate::error::Result;
use crate::index::schema::Fields;
use crate::index::store;

/// The best statements kept per occupation: as many as its score sums and as are shown.
pub(crate) const KEPT: usize = if super::OCCUPATION_TOP > super::occupations::HITS_SHOWN {
    super::OCCUPATION_TOP
} else {
    super::occupations::HITS_SHOWN
};

/// The occupation codes of one index generation, numbered in code order, and each segment's SOC
/// ordinals mapped to those numbers: matches are grouped by number, and codes are read only
/// for what is shown.
#[derive(Debug, Default)]
pub(crate) struct OccupationIds {
    /// Every code with a statement in some segment, sorted.
    pub(crate) codes: Vec<String>,
    /// Per segment, per document: its occupation's number × 8 + its level's ordinal, or
    /// [`NOT_A_STATEMENT`] (read from the columns once per generation, so that a match costs
    /// one array read instead of two column look-ups).
    docs: Vec<Vec<u32>>,
}

/// The packed value of a document without a code (a knowledge document).
const NOT_A_STATEMENT: u32 = u32::MAX;

impl OccupationIds {
    /// Reads every segment's SOC dictionary, then each document's code and level (once per
    /// index generation).
    pub(crate) fn build(searcher: &Searcher, fields: &Fields) -> Result<OccupationIds> {
        let mut per_segment = Vec::new();
        let mut columns = Vec::new();
        for seg in searcher.segment_readers() {
            let col = store::soc_column(seg, searcher, fields)?;
            let codes = match &col {
                Some(col) => {
                    let ords: Vec<u64> = (0..col.dictionary().num_terms() as u64).collect();
                    store::codes_of(col, &ords)?
                }
                None => Vec::new(),
            };
            per_segment.push(codes);
            let level_field = searcher.schema().get_field_name(fields.level_ord);
            columns.push((seg, col, seg.fast_fields().u64(level_field)?));
        }
        let mut codes: Vec<String> = per_segment.iter().flatten().cloned().collect();
        codes.sort_unstable();
        codes.dedup();
        let docs = per_segment
            .iter()
            .zip(&columns)
            .map(|(seg_codes, (seg, socs, levels))| {
                let numbers: Vec<u32> = seg_codes
                    .iter()
                    .map(|c| codes.binary_search(c).unwrap_or_default() as u32)
                    .collect();
                (0..seg.max_doc())
                    .map(|doc| {
                        let ord = socs.as_ref().and_then(|c| c.term_ords(doc).next());
                        match ord.and_then(|o| numbers.get(o as usize)) {
                            Some(&n) => {
                                let level = Level::from_ordinal(levels.first(doc).unwrap_or(1))
                                    .unwrap_or(Level::Emerging);
                                n * 8 + level.ordinal() as u32
                            }
                            None => NOT_A_STATEMENT,
                        }
                    })
                    .collect()
            })
            .collect();
        Ok(OccupationIds { codes, docs })
    }

    /// The number of a code, when some statement has it.
    pub(crate) fn id(&self, code: &str) -> Option<u32> {
        self.codes
            .binary_search_by(|c| c.as_str().cmp(code))
            .ok()
            .map(|i| i as u32)
    }
}

/// A kept statement: its score, address and whether it holds every unit of the query (the
/// first tier).
pub(crate) type Kept = (Score, DocAddress, bool);

/// What one query's matches say of one occupation (kept small: it is made for every run of
/// matches and moved as the runs merge).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Evidence {
    best: [Kept; KEPT],
    kept: u8,
    /// All of its statements that match (saturating).
    matched: u32,
    /// Those, per level, in [`Level::ALL`] order.
    levels: [u32; 4],
}

impl Default for Evidence {
    fn default() -> Self {
        Evidence {
            best: [(0.0, DocAddress::new(0, 0), false); KEPT],
            kept: 0,
            matched: 0,
            levels: [0; 4],
        }
    }
}

impl Evidence {
    /// Its best statements, best first (a higher score, then a lower address), at most
    /// [`KEPT`]; within the tiers, those of the first tier come first.
    pub(crate) fn best(&self) -> &[Kept] {
        &self.best[..usize::from(self.kept)]
    }

    /// All of its statements that match.
    pub(crate) fn matched(&self) -> usize {
        self.matched as usize
    }

    /// Those, per level.
    pub(crate) fn levels(&self) -> LevelCounts {
        let mut counts = LevelCounts::default();
        for (level, n) in Level::ALL.iter().zip(self.levels) {
            *counts.get_mut(*level) = u64::from(n);
        }
        counts
    }

    /// Adds a statement, keeping the best [`KEPT`] in order.
    fn push(&mut self, kept: Kept, level: Level) {
        self.matched = self.matched.saturating_add(1);
        let n = &mut self.levels[level.index()];
        *n = n.saturating_add(1);
        self.keep(kept);
    }

    fn keep(&mut self, (score, addr, first): Kept) {
        // Does a kept statement rank ahead of this one (a higher score, or the same and a lower
        // address)?
        let ahead = |a: &Kept| match a.0.total_cmp(&score) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => a.1 < addr,
            std::cmp::Ordering::Less => false,
        };
        // The free place to fill: a new one, or the last (dropped) when all are taken.
        let kept = usize::from(self.kept);
        let mut at = if kept < KEPT {
            kept
        } else if ahead(&self.best[KEPT - 1]) {
            // Ranks behind every kept statement (the common case once they are all taken).
            return;
        } else {
            KEPT - 1
        };
        // One insertion step: those ranked behind move down one place.
        while at > 0 && !ahead(&self.best[at - 1]) {
            self.best[at] = self.best[at - 1];
            at -= 1;
        }
        self.best[at] = (score, addr, first);
        self.kept = (kept + 1).min(KEPT) as u8;
    }

    /// Folds in another part of the same occupation's matches: another segment's (`then`
    /// false: the best of both, in order), or the second tier's after the first (`then` true:
    /// `self`'s statements stay ahead of `other`'s).
    fn merge(&mut self, other: &Evidence, then: bool) {
        self.matched = self.matched.saturating_add(other.matched);
        for (n, m) in self.levels.iter_mut().zip(other.levels) {
            *n = n.saturating_add(m);
        }
        for &k in other.best() {
            if then {
                if usize::from(self.kept) < KEPT {
                    self.best[usize::from(self.kept)] = k;
                    self.kept += 1;
                }
            } else {
                self.keep(k);
            }
        }
    }
}

/// Evidence per occupation number: a slot per number, read without hashing, and the
/// occupations found, in the order they were first met.
#[derive(Debug, Default)]
pub(crate) struct ByOccupation {
    /// Per occupation number: its place in `found` + 1, or 0.
    slots: Vec<u32>,
    found: Vec<(u32, Evidence)>,
}

impl ByOccupation {
    fn with_capacity(numbers: usize, found: usize) -> ByOccupation {
        ByOccupation {
            slots: vec![0; numbers],
            found: Vec::with_capacity(found),
        }
    }

    /// Adds an occupation's evidence: merged as [`Evidence::merge`] does when it is there.
    fn add(&mut self, id: u32, e: Evidence, then: bool) {
        let i = id as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, 0);
        }
        match self.slots[i] {
            0 => {
                self.found.push((id, e));
                self.slots[i] = self.found.len() as u32;
            }
            k => self.found[k as usize - 1].1.merge(&e, then),
        }
    }

    fn place(&self, id: u32) -> Option<usize> {
        match self.slots.get(id as usize) {
            Some(&k) if k > 0 => Some(k as usize - 1),
            _ => None,
        }
    }

    #[cfg(test)]
    pub(crate) fn get(&self, id: u32) -> Option<&Evidence> {
        self.place(id).map(|k| &self.found[k].1)
    }

    pub(crate) fn contains(&self, id: u32) -> bool {
        self.place(id).is_some()
    }

    /// Takes an occupation's evidence out, leaving it unfound.
    pub(crate) fn take(&mut self, id: u32) -> Option<Evidence> {
        let k = self.place(id)?;
        self.slots[id as usize] = 0;
        Some(std::mem::take(&mut self.found[k].1))
    }

    /// The occupations found and their evidence (an occupation taken out is still listed, with
    /// empty evidence: take them out last).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &Evidence)> {
        self.found.iter().map(|(id, e)| (*id, e))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.found.is_empty()
    }
}

impl IntoIterator for ByOccupation {
    type Item = (u32, Evidence);
    type IntoIter = std::vec::IntoIter<(u32, Evidence)>;

    fn into_iter(self) -> Self::IntoIter {
        self.found.into_iter()
    }
}

/// Collects [`Evidence`] per occupation from every match of a query.
pub(crate) struct Grouped {
    ids: Arc<OccupationIds>,
    /// Are the matches the first tier's?
    first: bool,
}

impl Grouped {
    /// `ids` must be of the searcher the collector runs on.
    pub(crate) fn new(ids: Arc<OccupationIds>, first: bool) -> Self {
        Grouped { ids, first }
    }
}

/// One segment's part.
pub(crate) struct SegmentGrouped {
    segment: SegmentOrdinal,
    first: bool,
    ids: Arc<OccupationIds>,
    /// Each run of matches of one occupation, in document order: an occupation's statements
    /// mostly lie in a row, so a match extends the last run and no map is touched until the
    /// segments' runs are merged.
    runs: Vec<(u32, Evidence)>,
}

impl Collector for Grouped {
    type Fruit = ByOccupation;
    type Child = SegmentGrouped;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<SegmentGrouped> {
        Ok(SegmentGrouped {
            segment,
            first: self.first,
            ids: self.ids.clone(),
            runs: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, parts: Vec<Runs>) -> tantivy::Result<ByOccupation> {
        let runs = parts.iter().map(Vec::len).sum();
        let mut all = ByOccupation::with_capacity(self.ids.codes.len(), runs);
        for (id, e) in parts.into_iter().flatten() {
            // The best of both, in order, whichever comes first.
            all.add(id, e, false);
        }
        Ok(all)
    }
}

/// One segment's runs of matches, each of one occupation.
pub(crate) type Runs = Vec<(u32, Evidence)>;

impl SegmentCollector for SegmentGrouped {
    type Fruit = Runs;

    fn collect(&mut self, doc: DocId, score: Score) {
        let packed = self
            .ids
            .docs
            .get(self.segment as usize)
            .and_then(|s| s.get(doc as usize))
            .copied()
            .unwrap_or(NOT_A_STATEMENT);
        if packed == NOT_A_STATEMENT {
            // Not a statement (a knowledge document has no code).
            return;
        }
        let (id, level) = (packed / 8, packed % 8);
        let level = Level::from_ordinal(u64::from(level)).unwrap_or(Level::Emerging);
        if self.runs.last().is_none_or(|(run, _)| *run != id) {
            self.runs.push((id, Evidence::default()));
        }
        if let Some((_, e)) = self.runs.last_mut() {
            e.push(
                (score, DocAddress::new(self.segment, doc), self.first),
                level,
            );
        }
    }

    fn harvest(self) -> Runs {
        self.runs
    }
}

/// The first tier's evidence, then the second tier's behind it: an occupation's best
/// statements are those with every word, best first, then those with some.
pub(crate) fn tiers(mut first: ByOccupation, second: ByOccupation) -> ByOccupation {
    for (id, e) in second {
        first.add(id, e, true);
    }
    first
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(doc: u32) -> DocAddress {
        DocAddress::new(0, doc)
    }

    #[test]
    fn keeps_the_best_in_order_with_ties_to_the_lower_address() {
        let mut e = Evidence::default();
        for (s, d) in [
            (1.0, 9),
            (3.0, 5),
            (2.0, 1),
            (3.0, 2),
            (0.5, 3),
            (2.0, 0),
            (4.0, 7),
        ] {
            e.push((s, at(d), true), Level::Emerging);
        }
        let kept: Vec<(f32, u32)> = e.best().iter().map(|k| (k.0, k.1.doc_id)).collect();
        assert_eq!(
            kept[..KEPT.min(5)],
            [(4.0, 7), (3.0, 2), (3.0, 5), (2.0, 0), (2.0, 1)][..KEPT.min(5)]
        );
        assert_eq!(e.matched(), 7);
        assert_eq!(e.levels().get(Level::Emerging), 7);
    }

    #[test]
    fn an_occupation_whose_statements_lie_apart_collects_as_one_in_a_row() {
        // Occupation numbers 0 and 1; document d belongs to occupation `owner[d]`.
        let owner = [0u32, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1];
        let ids = Arc::new(OccupationIds {
            codes: vec!["11-1011.00".into(), "11-1021.00".into()],
            docs: vec![owner.iter().map(|&o| o * 8 + 1).collect()],
        });
        let scores = [1.0, 5.0, 2.0, 2.0, 5.0, 3.0, 0.5, 4.0, 4.0, 0.1, 6.0, 2.5];
        let collector = Grouped::new(ids.clone(), true);
        let mut seg = SegmentGrouped {
            segment: 0,
            first: true,
            ids: ids.clone(),
            runs: Vec::new(),
        };
        for (doc, &score) in scores.iter().enumerate() {
            seg.collect(doc as u32, score);
        }
        let runs = seg.harvest();
        assert_eq!(runs.len(), 6, "a run per stretch of one occupation");
        let got = collector.merge_fruits(vec![runs]).unwrap();
        for id in [0u32, 1] {
            let mut want = Evidence::default();
            for (doc, &score) in scores.iter().enumerate() {
                if owner[doc] == id {
                    want.push((score, at(doc as u32), true), Level::Emerging);
                }
            }
            assert_eq!(got.get(id), Some(&want), "occupation {id}");
        }
        assert_eq!(got.get(0).map(|e| e.matched()), Some(8));
        assert_eq!(got.get(0).map(|e| e.best()[0].1), Some(at(10)));
        assert!(!got.contains(2));
    }

    #[test]
    fn the_second_tier_follows_the_first_and_segments_interleave() {
        let mut first = Evidence::default();
        first.push((1.0, at(1), true), Level::Advanced);
        let mut second = Evidence::default();
        second.push((9.0, at(2), false), Level::Emerging);
        let mut a = first;
        a.merge(&second, true);
        assert_eq!(a.best()[0].1, at(1));
        assert_eq!(a.best()[1].1, at(2));
        assert_eq!(a.matched(), 2);
        let mut b = first;
        b.merge(&second, false);
        assert_eq!(b.best()[0].1, at(2));
    }
}
