//! The ranking passes: a shared top-k over pruned passes (the first tier), then the rest of
//! the tiers, exact by construction (see `first_tier`).

use std::collections::HashMap;

use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanWeight, Explanation, Occur, Query, SumCombiner, Weight};
use tantivy::{DocAddress, DocId, DocSet, Score, Searcher, SegmentReader, TERMINATED};

use crate::error::Result;
use crate::index::engine::StatementStats;

use super::query::{Compiled, PassTerms};

/// The best `depth` docs of a query, and the count of all its matches when asked for (counting
/// visits every match, so it is skipped unless wanted: top-k alone lets tantivy prune).
pub(crate) fn top(
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
pub(crate) type Scored = (f32, DocAddress);
/// A ranked document: score, address, whether it has every unit, and the query that scored it.
pub(crate) type RankedDoc<'a> = (f32, DocAddress, bool, &'a dyn Query);

/// A ranked page across the two tiers.
#[derive(Default)]
pub(crate) struct Ranked<'a> {
    pub(crate) docs: Vec<RankedDoc<'a>>,
    pub(crate) total: Option<usize>,
    pub(crate) total_all: Option<usize>,
}

/// A weight shared by several passes' boolean weights (its term statistics are read once).
pub(crate) struct SharedWeight(std::sync::Arc<dyn Weight>);

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
pub(crate) struct TopK<'a> {
    pub(crate) depth: usize,
    pub(crate) kept: std::collections::BTreeSet<Entry<'a>>,
    pub(crate) by_addr: HashMap<DocAddress, Entry<'a>>,
}

#[derive(Clone, Copy)]
pub(crate) struct Entry<'a> {
    pub(crate) score: Score,
    pub(crate) addr: DocAddress,
    pub(crate) query: &'a dyn Query,
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

    /// One pruned pass over every segment: `run` is handed each segment, the threshold to
    /// start from and the callback that keeps the live documents `keep` accepts, each with
    /// `query` to explain it.
    fn pass(
        &mut self,
        searcher: &Searcher,
        query: &'a dyn Query,
        keep: impl Fn(DocAddress) -> bool,
        mut run: impl FnMut(&SegmentReader, Score, &mut dyn FnMut(DocId, Score) -> Score) -> Result<()>,
    ) -> Result<()> {
        for (seg_ord, reader) in searcher.segment_readers().iter().enumerate() {
            let alive = reader.alive_bitset();
            let start = self.threshold();
            let mut on_doc = |doc: DocId, score: Score| -> Score {
                let addr = DocAddress::new(seg_ord as u32, doc);
                if alive.is_none_or(|a| a.is_alive(doc)) && keep(addr) {
                    self.push(Entry { score, addr, query });
                }
                self.threshold()
            };
            run(reader, start, &mut on_doc)?;
        }
        Ok(())
    }

    fn into_sorted(self) -> Vec<Entry<'a>> {
        self.kept.into_iter().rev().collect()
    }
}

/// Each query's weight (its terms' BM25 statistics read once), to be shared by every pass.
fn shared_weights(
    stats: &StatementStats<'_>,
    qs: &[Box<dyn Query>],
) -> Result<Vec<std::sync::Arc<dyn Weight>>> {
    Ok(qs
        .iter()
        .map(|q| q.weight(stats.scoring()).map(std::sync::Arc::from))
        .collect::<tantivy::Result<_>>()?)
}

/// The subsets of `n` bonus clauses as bit masks, largest first, the empty one (the plain
/// query) last: rare and high-scoring, the larger ones raise the threshold early.
fn bonus_subsets(n: usize) -> Vec<u32> {
    let mut masks: Vec<u32> = (0..1u32 << n).collect();
    masks.sort_by_key(|m| std::cmp::Reverse(m.count_ones()));
    masks
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
pub(crate) fn first_tier<'a>(
    searcher: &Searcher,
    c: &'a Compiled,
    depth: usize,
) -> Result<Vec<RankedDoc<'a>>> {
    if let Some(PassTerms {
        units,
        constant,
        bonus,
    }) = &c.pruned_passes
        && depth > 0
    {
        let stats = StatementStats::of(searcher)?;
        let shared = |qs| shared_weights(&stats, qs);
        let (unit_w, bonus_w) = (shared(units)?, shared(bonus)?);
        let constant_w = shared(constant)?;
        // The scored part of a pass; `None` when it has no clause (typo-tolerant words alone).
        let pass = |mask: u32| -> Option<Box<dyn Weight>> {
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
            if ws.len() <= 1 {
                // A bare term keeps its own pruning.
                return ws.pop().map(|(_, w)| w);
            }
            Some(Box::new(BooleanWeight::with_minimum_number_should_match(
                ws,
                0,
                true,
                Box::new(SumCombiner::default),
            )))
        };
        let bonus_q: &dyn Query = c.all_bonus.as_deref().unwrap_or(&*c.all_plain);
        let mut best = TopK::new(depth);
        for mask in bonus_subsets(bonus_w.len()) {
            let weight = pass(mask);
            let explains = if mask == 0 { &*c.all_plain } else { bonus_q };
            best.pass(
                searcher,
                explains,
                |_| true,
                |reader, start, on_doc| {
                    with_constant(weight.as_deref(), &constant_w, start, reader, on_doc)
                },
            )?;
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

/// The best `depth` statements with some but not every unit, by pruned passes: as in
/// `first_tier`, one top-k shared by passes over the subsets of the bonus clauses (largest
/// first), each pass the union of the units with that subset required, so that the plain pass
/// is a union of terms tantivy prunes by block-max WAND. The first tier's statements (all of
/// them, for it ran out) are passed over. Exact for the reasons `first_tier` gives: a statement
/// scores its units plus the bonuses of its pass, and the pass of exactly its bonuses gives
/// its true score.
fn second_tier(
    searcher: &Searcher,
    passes: &PassTerms,
    first_tier: &std::collections::HashSet<DocAddress>,
    depth: usize,
) -> Result<Vec<Scored>> {
    if depth == 0 {
        return Ok(Vec::new());
    }
    let stats = StatementStats::of(searcher)?;
    let (unit_w, bonus_w) = (
        shared_weights(&stats, &passes.units)?,
        shared_weights(&stats, &passes.bonus)?,
    );
    // Entries need a query; the second tier's explanations come from `Compiled::rest`.
    let unused = tantivy::query::EmptyQuery;
    let mut best = TopK::new(depth);
    for mask in bonus_subsets(bonus_w.len()) {
        let ws: Vec<(Occur, Box<dyn Weight>)> = unit_w
            .iter()
            .map(|w| (Occur::Should, w.clone()))
            .chain(
                bonus_w
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, w)| (Occur::Must, w.clone())),
            )
            .map(|(o, w)| (o, Box::new(SharedWeight(w)) as Box<dyn Weight>))
            .collect();
        let weight = BooleanWeight::with_minimum_number_should_match(
            ws,
            1,
            true,
            Box::new(SumCombiner::default),
        );
        let fresh = |addr: DocAddress| !first_tier.contains(&addr);
        best.pass(searcher, &unused, fresh, |reader, start, on_doc| {
            Ok(weight.for_each_pruning(start, reader, on_doc)?)
        })?;
    }
    Ok(best
        .into_sorted()
        .into_iter()
        .map(|e| (e.score, e.addr))
        .collect())
}

/// `scored`'s matches that also match every `constant` clause (each scoring the same for all of
/// its matches), pruned as `scored` prunes: a document scores `scored`'s score plus the
/// constants, so `scored` runs against the threshold less the constants, and the documents it
/// passes are checked against the constant clauses in order. With `scored` absent, the constant
/// clauses' intersection at their sum. Exact: a document `scored` skips scores at most the
/// lowered threshold, so at most the threshold in all.
fn with_constant(
    scored: Option<&dyn Weight>,
    constant: &[std::sync::Arc<dyn Weight>],
    threshold: Score,
    reader: &SegmentReader,
    callback: &mut dyn FnMut(DocId, Score) -> Score,
) -> Result<()> {
    if constant.is_empty() {
        if let Some(w) = scored {
            w.for_each_pruning(threshold, reader, callback)?;
        }
        return Ok(());
    }
    let mut filters: Vec<Box<dyn tantivy::query::Scorer>> = constant
        .iter()
        .map(|w| w.scorer(reader, 1.0))
        .collect::<tantivy::Result<_>>()?;
    if filters.iter().any(|f| f.doc() == TERMINATED) {
        return Ok(());
    }
    let sum: Score = filters.iter_mut().map(|f| f.score()).sum();
    let mut matches_all = |doc: DocId| {
        filters.iter_mut().all(|f| {
            let at = if f.doc() < doc { f.seek(doc) } else { f.doc() };
            at == doc
        })
    };
    let mut threshold = threshold;
    let Some(w) = scored else {
        let all = tantivy::query::intersect_scorers(filters, reader.num_docs());
        each_above(all, threshold, callback);
        return Ok(());
    };
    // Lowered by one more step, so that rounding in the sum never skips a document.
    let lowered = |t: Score| (t - sum).next_down();
    // When few of the documents the scored part passes hold the typo-tolerant words, their
    // intersection is small, and skipping through it beats pruning: switch for the rest of
    // the segment.
    let (mut seen, mut held) = (0u32, 0u32);
    let mut switched_after: Option<DocId> = None;
    w.for_each_pruning(lowered(threshold), reader, &mut |doc, score| {
        if switched_after.is_some() {
            return Score::MAX;
        }
        seen += 1;
        if matches_all(doc) {
            held += 1;
            threshold = callback(doc, score + sum);
        }
        if seen >= SWITCH_AFTER && held * SWITCH_BELOW_ONE_IN < seen {
            switched_after = Some(doc);
            return Score::MAX;
        }
        lowered(threshold)
    })?;
    if let Some(last) = switched_after {
        // The constant clauses' scorers stand at or before their first match after `last`.
        filters.push(w.scorer(reader, 1.0)?);
        let mut all = tantivy::query::intersect_scorers(filters, reader.num_docs());
        if all.doc() <= last {
            all.seek(last + 1);
        }
        each_above(all, threshold, callback);
    }
    Ok(())
}

/// Pruned documents seen before `with_constant` judges how many hold the constant clauses.
const SWITCH_AFTER: u32 = 256;
/// `with_constant` switches to skipping through the intersection when fewer than one in this
/// many of the documents seen held the constant clauses.
const SWITCH_BELOW_ONE_IN: u32 = 8;

/// Every document of `docs` from where it stands that scores above the threshold, as
/// tantivy's pruning passes them.
fn each_above(
    mut docs: Box<dyn tantivy::query::Scorer>,
    mut threshold: Score,
    callback: &mut dyn FnMut(DocId, Score) -> Score,
) {
    let mut doc = docs.doc();
    while doc != TERMINATED {
        let score = docs.score();
        if score > threshold {
            threshold = callback(doc, score);
        }
        doc = docs.advance();
    }
}

/// Ranks the first tier (every unit) before the second (some units). The second tier is searched
/// only when the first runs out before the page is full: then the first tier's size is known
/// exactly from what it returned, and no count is needed to page across the boundary.
pub(crate) fn rank<'a>(
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
    // Every statement of the first tier, when it ran out and the second tier's passes pass
    // over them.
    let first_tier_docs: std::collections::HashSet<DocAddress> =
        match n_first < depth && c.rest_passes.is_some() {
            true => first.iter().map(|d| d.1).collect(),
            false => Default::default(),
        };
    let mut docs: Vec<_> = first.into_iter().skip(offset).collect();
    if let Some(rest) = &c.rest
        && n_first < depth
    {
        // The first tier is exhausted at n_first documents.
        let rest_offset = offset.saturating_sub(n_first);
        let rest_depth = rest_offset + (limit - docs.len());
        let more = match &c.rest_passes {
            Some(passes) => second_tier(searcher, passes, &first_tier_docs, rest_depth)?,
            None => top(searcher, &**rest, rest_depth, false)?.0,
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::collector::TopDocs;
    use tantivy::query::{BooleanQuery, ConstScoreQuery, EnableScoring, TermQuery};
    use tantivy::schema::{IndexRecordOption, Schema, TEXT};
    use tantivy::{Index, TantivyDocument, Term};

    /// `with_constant` against tantivy's unpruned intersection: the same top documents, at the
    /// same scores, whether few of the scored part's documents hold the constant clause (it
    /// switches to skipping through the intersection) or most do (it prunes to the end).
    #[test]
    fn constant_clauses_prune_exactly_in_both_modes() {
        let mut b = Schema::builder();
        let text = b.add_text_field("text", TEXT);
        let index = Index::create_in_ram(b.build());
        let mut w = index.writer_with_num_threads(1, 15_000_000).unwrap();
        for i in 0..6_000u32 {
            let mut words = vec!["alpha"; 1 + (i * 7 % 5) as usize];
            words.extend(std::iter::repeat_n("filler", (i * 13 % 11) as usize));
            if i % 3 == 0 {
                words.push("gamma");
            }
            if i % 29 == 0 {
                words.push("rare");
            }
            if i % 10 != 0 {
                words.push("often");
            }
            let mut d = TantivyDocument::default();
            d.add_text(text, words.join(" "));
            w.add_document(d).unwrap();
            if i % 2_000 == 1_999 {
                w.commit().unwrap();
            }
        }
        w.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        assert!(searcher.segment_readers().len() > 1);
        let term = |t: &str| {
            Box::new(TermQuery::new(
                Term::from_field_text(text, t),
                IndexRecordOption::WithFreqs,
            )) as Box<dyn Query>
        };
        let constant = |t: &str| Box::new(ConstScoreQuery::new(term(t), 0.5)) as Box<dyn Query>;
        let scoring = EnableScoring::enabled_from_searcher(&searcher);
        for (scored, filters, depth) in [
            (vec!["alpha"], vec!["rare"], 10),
            (vec!["alpha"], vec!["often"], 10),
            (vec!["alpha", "gamma"], vec!["rare"], 25),
            (vec!["alpha", "gamma"], vec!["often", "rare"], 7),
            (vec!["alpha"], vec!["often"], 300),
        ] {
            let mut all: Vec<(Occur, Box<dyn Query>)> = Vec::new();
            all.extend(scored.iter().map(|t| (Occur::Must, term(t))));
            all.extend(filters.iter().map(|t| (Occur::Must, constant(t))));
            let want = searcher
                .search(
                    &BooleanQuery::new(all),
                    &TopDocs::with_limit(depth).order_by_score(),
                )
                .unwrap();
            let scored_q =
                BooleanQuery::new(scored.iter().map(|t| (Occur::Must, term(t))).collect());
            let scored_w = scored_q.weight(scoring).unwrap();
            let constant_w: Vec<std::sync::Arc<dyn Weight>> = filters
                .iter()
                .map(|t| std::sync::Arc::from(constant(t).weight(scoring).unwrap()))
                .collect();
            let mut best = TopK::new(depth);
            best.pass(
                &searcher,
                &scored_q,
                |_| true,
                |reader, start, on_doc| {
                    with_constant(Some(scored_w.as_ref()), &constant_w, start, reader, on_doc)
                },
            )
            .unwrap();
            let got: Vec<(f32, DocAddress)> = best
                .into_sorted()
                .into_iter()
                .map(|e| (e.score, e.addr))
                .collect();
            assert_eq!(got.len(), want.len(), "{scored:?} {filters:?}");
            for ((gs, ga), (ws, wa)) in got.iter().zip(&want) {
                assert!(
                    (gs - ws).abs() <= 1e-5,
                    "{scored:?} {filters:?}: {gs} vs {ws}"
                );
                assert!(
                    ga == wa || (gs - ws).abs() <= 1e-5,
                    "{scored:?} {filters:?}"
                );
            }
            let got_docs: std::collections::BTreeSet<_> = got.iter().map(|g| g.1).collect();
            let want_docs: std::collections::BTreeSet<_> = want.iter().map(|w| w.1).collect();
            assert_eq!(got_docs, want_docs, "{scored:?} {filters:?} depth {depth}");
        }
    }
}
