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

/// What one query's matches say of one occupation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Evidence {
    best: [Kept; KEPT],
    kept: usize,
    /// All of its statements that match.
    pub(crate) matched: usize,
    /// Those, per level.
    pub(crate) levels: LevelCounts,
}

impl Default for Evidence {
    fn default() -> Self {
        Evidence {
            best: [(0.0, DocAddress::new(0, 0), false); KEPT],
            kept: 0,
            matched: 0,
            levels: LevelCounts::default(),
        }
    }
}

impl Evidence {
    /// Its best statements, best first (a higher score, then a lower address), at most
    /// [`KEPT`]; within the tiers, those of the first tier come first.
    pub(crate) fn best(&self) -> &[Kept] {
        &self.best[..self.kept]
    }

    /// Adds a statement, keeping the best [`KEPT`] in order.
    fn push(&mut self, kept: Kept, level: Level) {
        self.matched += 1;
        *self.levels.get_mut(level) += 1;
        self.keep(kept);
    }

    fn keep(&mut self, (score, addr, first): Kept) {
        // Kept statements that rank ahead of this one come first.
        let at = self
            .best()
            .partition_point(|a| a.0.total_cmp(&score).then_with(|| addr.cmp(&a.1)).is_gt());
        if at >= KEPT {
            return;
        }
        let end = (self.kept + 1).min(KEPT);
        self.best.copy_within(at..end - 1, at + 1);
        self.best[at] = (score, addr, first);
        self.kept = end;
    }

    /// Folds in another part of the same occupation's matches: another segment's (`then`
    /// false: the best of both, in order), or the second tier's after the first (`then` true:
    /// `self`'s statements stay ahead of `other`'s).
    fn merge(&mut self, other: &Evidence, then: bool) {
        self.matched += other.matched;
        for level in Level::ALL {
            *self.levels.get_mut(level) += other.levels.get(level);
        }
        for &k in other.best() {
            if then {
                if self.kept < KEPT {
                    self.best[self.kept] = k;
                    self.kept += 1;
                }
            } else {
                self.keep(k);
            }
        }
    }
}

/// Evidence per occupation number.
pub(crate) type ByOccupation = foldhash::HashMap<u32, Evidence>;

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
    by_id: ByOccupation,
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
            by_id: Default::default(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(&self, parts: Vec<ByOccupation>) -> tantivy::Result<ByOccupation> {
        let mut parts = parts.into_iter();
        let mut all = parts.next().unwrap_or_default();
        for part in parts {
            for (id, e) in part {
                all.entry(id)
                    .and_modify(|have| have.merge(&e, false))
                    .or_insert(e);
            }
        }
        Ok(all)
    }
}

impl SegmentCollector for SegmentGrouped {
    type Fruit = ByOccupation;

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
        self.by_id.entry(id).or_default().push(
            (score, DocAddress::new(self.segment, doc), self.first),
            level,
        );
    }

    fn harvest(self) -> ByOccupation {
        self.by_id
    }
}

/// The first tier's evidence, then the second tier's behind it: an occupation's best
/// statements are those with every word, best first, then those with some.
pub(crate) fn tiers(mut first: ByOccupation, second: ByOccupation) -> ByOccupation {
    for (id, e) in second {
        first
            .entry(id)
            .and_modify(|have| have.merge(&e, true))
            .or_insert(e);
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
        assert_eq!(e.matched, 7);
        assert_eq!(e.levels.get(Level::Emerging), 7);
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
        assert_eq!(a.matched, 2);
        let mut b = first;
        b.merge(&second, false);
        assert_eq!(b.best()[0].1, at(2));
    }
}
