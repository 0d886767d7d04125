//! Occupation ranking against a brute-force computation of what its score means: every
//! matching statement, read through statement search, grouped by occupation, its best five
//! summed with weights 1, 1/2, 1/4, … (those with every word first), times 1 + the weight of
//! levels × (levels reached − 1) / 3 + the weight of matches × ln(statements matched).

use std::collections::HashMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use skillmap::domain::level::{Level, LevelCounts};
use skillmap::index::engine::Engine;
use skillmap::search::{
    OCCUPATION_TOP, OccupationWeights, Ranking, SearchHit, SearchRequest, search_occupations,
    search_ranked,
};

/// The bundled collection indexed twice (the second run replaces every statement, so the index
/// holds deleted documents that must not count), and the folder that holds it.
fn indexed() -> &'static (tempfile::TempDir, Engine) {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    ENGINE.get_or_init(|| crate::util::indexed("data/frameworks", 2))
}

fn engine() -> &'static Engine {
    &indexed().1
}

/// What the brute force finds for one occupation.
#[derive(Debug)]
struct Expected {
    score: f32,
    matched: usize,
    levels: LevelCounts,
    /// Scores of its best statements, in order.
    best: Vec<f32>,
}

/// Every statement that matches `req`, in statement search's order (those with every word
/// first, each tier best first), page by page, grouped by occupation.
fn brute_force(req: &SearchRequest) -> Vec<(String, Expected)> {
    let mut all: Vec<SearchHit> = Vec::new();
    loop {
        let mut page = req.clone();
        page.offset = all.len();
        page.limit = 1000;
        let hits = search_ranked(engine(), &page, &Ranking::OCCUPATIONS)
            .unwrap()
            .hits;
        if hits.is_empty() {
            break;
        }
        all.extend(hits);
    }
    let mut by_soc: HashMap<String, Vec<&SearchHit>> = HashMap::new();
    for h in &all {
        by_soc.entry(h.soc.clone()).or_default().push(h);
    }
    let mut out: Vec<(String, Expected)> = by_soc
        .into_iter()
        .map(|(soc, hits)| {
            let mut levels = LevelCounts::default();
            for h in &hits {
                *levels.get_mut(h.level) += 1;
            }
            let best: Vec<f32> = hits.iter().map(|h| h.score).take(OCCUPATION_TOP).collect();
            let sum: f32 = best
                .iter()
                .enumerate()
                .map(|(k, s)| s * 0.5f32.powi(k as i32))
                .sum();
            let w = OccupationWeights::DEFAULT;
            let reached = Level::ALL.iter().filter(|l| levels.get(**l) > 0).count();
            let breadth =
                w.levels * (reached as f32 - 1.0) / 3.0 + w.matches * (hits.len() as f32).ln();
            let score = sum * (1.0 + breadth);
            let e = Expected {
                score,
                matched: hits.len(),
                levels,
                best,
            };
            (soc, e)
        })
        .collect();
    out.sort_by(|a, b| b.1.score.total_cmp(&a.1.score).then_with(|| a.0.cmp(&b.0)));
    out
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-4 * a.abs().max(1.0)
}

/// The page `req` asks for against the brute force. With `lexical_only`, every occupation must
/// be scored by its statements alone; otherwise those that titles or tools name may score more.
fn check(req: &SearchRequest, lexical_only: bool) -> Result<(), TestCaseError> {
    let expected = brute_force(req);
    let by_soc: HashMap<&str, &Expected> = expected.iter().map(|(s, e)| (s.as_str(), e)).collect();
    let got = search_occupations(engine(), req).unwrap();
    let q = &req.query;
    if lexical_only {
        prop_assert_eq!(got.total, expected.len(), "{:?}: total", q);
    }
    for o in &got.occupations {
        let Some(e) = by_soc.get(o.soc.as_str()) else {
            // Only titles or tools can bring an occupation without a matching statement.
            prop_assert!(
                !lexical_only && !o.named_by.is_empty(),
                "{:?}: {} unexpected",
                q,
                o.soc
            );
            prop_assert_eq!(o.matched, 0);
            continue;
        };
        prop_assert_eq!(o.matched, e.matched, "{:?}: {} matched", q, o.soc);
        prop_assert_eq!(o.levels, e.levels, "{:?}: {} levels", q, o.soc);
        let shown: Vec<f32> = o.hits.iter().map(|h| h.score).collect();
        prop_assert_eq!(shown.len(), e.best.len().min(3), "{:?}: {} hits", q, o.soc);
        for (s, b) in shown.iter().zip(&e.best) {
            prop_assert!(close(*s, *b), "{:?}: {} hit {} vs {}", q, o.soc, s, b);
        }
        if o.named_by.is_empty() {
            prop_assert!(
                close(o.score, e.score),
                "{:?}: {} scores {} not {}",
                q,
                o.soc,
                o.score,
                e.score
            );
        } else {
            prop_assert!(
                !lexical_only,
                "{:?}: {} named under a level filter",
                q,
                o.soc
            );
            prop_assert!(o.score > e.score, "{:?}: {} named but no higher", q, o.soc);
        }
    }
    if lexical_only {
        // The page is the brute force's page (ties, up to rounding, may swap).
        let want = expected.iter().skip(req.offset).take(req.limit);
        prop_assert_eq!(got.occupations.len(), want.len(), "{:?}: page", q);
        for (o, (soc, e)) in got.occupations.iter().zip(want) {
            prop_assert!(
                close(o.score, e.score),
                "{:?}: {} ({}) where {} ({}) was due",
                q,
                o.soc,
                o.score,
                soc,
                e.score
            );
        }
    }
    Ok(())
}

/// Under a level filter, titles and tools do not count (no level can say where they apply), so
/// the score is the statements' alone.
fn every_level(query: &str) -> SearchRequest {
    let mut req = SearchRequest::new(query);
    req.levels = Level::ALL.to_vec();
    req
}

#[test]
fn scores_equal_a_brute_force_sum_over_every_matching_statement() {
    // Broad queries too: "customer service equipment" matches thousands of statements, more
    // than the 2,000 the ranking once aggregated.
    for q in [
        "customer service equipment",
        "safety",
        "inspect cargo",
        "repair electrical wiring",
        "\"quality control\"",
        "contrabnd",
        "teach students reports",
    ] {
        let mut req = every_level(q);
        req.limit = 50;
        check(&req, true).unwrap();
        req.offset = 30;
        check(&req, true).unwrap();
    }
    let broad = brute_force(&every_level("customer service equipment"));
    let matches: usize = broad.iter().map(|e| e.1.matched).sum();
    assert!(matches > 2000, "{matches} matches");
}

/// Every match is visited in parallel parts of segments: cut anywhere, a few documents a part
/// and past deleted documents, the parts find the matches, scores and counts that a search
/// segment by segment finds.
#[test]
fn a_search_in_parts_finds_what_a_search_by_segment_finds() {
    use tantivy::collector::{Count, TopDocs};
    // A copy of the index, with the statements of every occupation of one group deleted and
    // no merge to purge them.
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(indexed().0.path().join("idx")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }
    let index = skillmap::index::engine::open_existing(copy.path()).unwrap();
    let f = &engine().fields;
    let mut writer: tantivy::IndexWriter = index.writer(50_000_000).unwrap();
    writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
    for soc in ["29-1141.00", "47-2111.00", "53-3032.00", "51-4121.06"] {
        writer.delete_term(tantivy::Term::from_field_text(f.soc, soc));
    }
    writer.commit().unwrap();
    let searcher = index.reader().unwrap().searcher();
    assert!(
        searcher.segment_readers().iter().any(|s| s.has_deletes()),
        "the copy should hold deleted documents"
    );
    let stats = skillmap::index::engine::StatementStats::of(&searcher).unwrap();
    let parser = tantivy::query::QueryParser::for_index(&index, vec![f.statement, f.topic]);
    for q in [
        "customer service equipment",
        "+inspect +cargo",
        "\"quality control\"",
        "safety -forklift",
        "weld",
    ] {
        let query = parser.parse_query(q).unwrap();
        let collector = (TopDocs::with_limit(300).order_by_score(), Count);
        let (want, n) = stats.search(&query, &collector).unwrap();
        assert!(n > 0, "{q} matches nothing");
        for chunk in [13, 4_096, u32::MAX] {
            let (got, m) = stats.search_parts(&query, &collector, chunk).unwrap();
            assert_eq!((m, &got), (n, &want), "{q}, parts of {chunk} documents");
        }
    }
}

#[test]
fn occupations_named_by_titles_only_gain() {
    for q in ["forklift", "customer service", "budget", "python"] {
        let mut req = SearchRequest::new(q);
        req.limit = 40;
        check(&req, false).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn any_query_and_filter_ranks_as_the_brute_force_does(
        words in prop::collection::vec(prop::sample::select(crate::util::RANKING_WORDS), 1..4),
        levels in prop::sample::subsequence(Level::ALL.to_vec(), 1..=4),
        zones in prop::sample::subsequence(vec![1u8, 2, 3, 4, 5], 0..=2),
        offset in 0usize..20,
        limit in 1usize..25,
    ) {
        let mut req = SearchRequest::new(words.join(" "));
        req.levels = levels;
        req.job_zones = zones;
        req.offset = offset;
        req.limit = limit;
        check(&req, true)?;
    }
}

/// `explain` gives the parts an occupation's score sums, each as its meaning says.
#[test]
fn the_explained_parts_sum_to_the_score() {
    let w = OccupationWeights::DEFAULT;
    for (query, ratio, names) in [
        ("forklift", 0.0, true),
        ("inspect cargo", 0.0, false),
        ("python", 0.3, true),
    ] {
        let mut req = SearchRequest::new(query.to_string());
        req.explain = true;
        req.semantic_ratio = ratio;
        let got = search_occupations(engine(), &req).unwrap();
        assert!(!got.occupations.is_empty(), "{query}");
        let mut named = false;
        for o in &got.occupations {
            let x = o.explain.expect("explained");
            let sum = x.statements + x.levels + x.matches + x.named + x.semantic.unwrap_or(0.0);
            assert!(
                close(sum, o.score),
                "{query}: {} {x:?} vs {}",
                o.soc,
                o.score
            );
            assert_eq!(x.semantic.is_some(), ratio > 0.0, "{query}");
            if ratio == 0.0 {
                let ln = (o.matched.max(1) as f32).ln();
                assert!(close(x.matches, x.statements * w.matches * ln), "{x:?}");
            }
            named |= x.named > 0.0;
            assert_eq!(x.named > 0.0, !o.named_by.is_empty(), "{query}: {}", o.soc);
        }
        // "forklift" and "python" name titles and tools; "inspect cargo" none.
        assert_eq!(named, names, "{query}");
        // Without `explain`, no parts.
        req.explain = false;
        let plain = search_occupations(engine(), &req).unwrap();
        assert!(plain.occupations.iter().all(|o| o.explain.is_none()));
    }
}

/// The bundled collection with its title and technology tables, indexed once (`.2`), and a copy
/// of that index without its titles-and-tools table (`.3`): the first ranks occupations from the
/// table written beside the commit, the second from the stored knowledge documents.
type Pair = (tempfile::TempDir, tempfile::TempDir, Engine, Engine);

fn with_and_without_names_table() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let (dir, with) = crate::util::indexed("data", 1);
        let copy = tempfile::tempdir().unwrap();
        let idx = copy.path().join("idx");
        crate::util::copy_tree(&with.path, &idx);
        assert_eq!(remove_names_tables(&idx), 1, "one table, the commit's");
        let without = Engine::open(&idx).unwrap();
        (dir, copy, with, without)
    })
}

/// Removes the titles-and-tools tables of an index folder; how many there were.
fn remove_names_tables(dir: &std::path::Path) -> usize {
    let mut removed = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("names-") && name.ends_with(".bin") {
            std::fs::remove_file(&p).unwrap();
            removed += 1;
        }
    }
    removed
}

/// The two engines' answers to `req`, as JSON, and whether any occupation was named.
fn named_both_ways(req: &SearchRequest) -> (serde_json::Value, serde_json::Value, bool) {
    let (_, _, with, without) = with_and_without_names_table();
    let a = search_occupations(with, req).unwrap();
    let b = search_occupations(without, req).unwrap();
    let named = a.occupations.iter().any(|o| !o.named_by.is_empty());
    (
        serde_json::to_value(&a).unwrap(),
        serde_json::to_value(&b).unwrap(),
        named,
    )
}

#[test]
fn the_titles_and_tools_table_names_the_occupations_the_documents_name() {
    let (_, _, with, without) = with_and_without_names_table();
    assert!(skillmap::search::reads_names_table(with).unwrap());
    assert!(!skillmap::search::reads_names_table(without).unwrap());
    let queries = [
        "python",
        "forklift",
        "excel",
        "spreadsheet software",
        "autocad",
        "registered nurse",
        "nurse",
        "truck driver",
        "welder",
        "accountant",
        "data engineer",
        "analysis software",
        "microsoft",
        "teacher",
        "sales manager",
        "software developer",
        "customer service",
        "data analysis reports",
        "quality control",
        "maintain equipment",
        "operating system software",
        "cook",
    ];
    let mut named = 0;
    for q in queries {
        let mut variants = vec![SearchRequest::new(q)];
        let mut page = SearchRequest::new(q);
        page.offset = 5;
        page.limit = 20;
        variants.push(page);
        let mut soc = SearchRequest::new(q);
        soc.soc = vec!["29".into(), "53-3".into()];
        variants.push(soc);
        let mut zone = SearchRequest::new(q);
        zone.job_zones = vec![2, 4];
        variants.push(zone);
        for req in variants {
            let (a, b, n) = named_both_ways(&req);
            assert_eq!(a, b, "{req:?}");
            named += usize::from(n);
        }
    }
    // Not vacuous: most of these name occupations by their titles or tools.
    assert!(named >= 40, "{named} answers named an occupation");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// Any words from titles and tools, alone or together, within filters or not.
    #[test]
    fn the_titles_and_tools_table_answers_as_the_documents_do(
        words in prop::collection::vec(
            prop::sample::select(vec![
                "software", "manager", "engineer", "nurse", "technician", "operator", "sales",
                "data", "analyst", "microsoft", "office", "machine", "truck", "computer", "aided",
                "design", "system", "teacher", "assistant", "specialist", "medical", "database",
                "accounting", "python", "equipment", "repair", "clerk", "driver", "supervisor",
            ]),
            1..=3,
        ),
        major in prop::sample::select(vec!["", "11", "15", "29", "43", "47-2", "51"]),
        zone in 0u8..=5,
        offset in 0usize..=3,
    ) {
        let mut req = SearchRequest::new(words.join(" "));
        if !major.is_empty() {
            req.soc = vec![major.to_string()];
        }
        if zone > 0 {
            req.job_zones = vec![zone];
        }
        req.offset = offset;
        let (a, b, _) = named_both_ways(&req);
        prop_assert_eq!(a, b, "{:?}", req);
    }
}
