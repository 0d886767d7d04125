//! Property tests (bounded cases): validation never panics, any query text is handled, level
//! inference is monotonic in seniority language.

use std::sync::OnceLock;

use proptest::prelude::*;
use skillmap::index::engine::Engine;
use skillmap::map::seniority::{combine, cues};
use skillmap::search::{Ranking, SearchRequest, search, search_ranked};

fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        ".{0,20}".prop_map(serde_json::Value::from),
        Just(serde_json::Value::from("33-3051.04")),
        Just(serde_json::Value::from("emerging")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::from),
            prop::collection::btree_map(
                prop_oneof![
                    Just("schemaVersion".to_string()),
                    Just("occupation".to_string()),
                    Just("framework".to_string()),
                    Just("levels".to_string()),
                    Just("statements".to_string()),
                    Just("soc".to_string()),
                    Just("title".to_string()),
                    "[a-z]{1,8}",
                ],
                inner,
                0..6
            )
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| crate::util::indexed("tests/fixtures/frameworks", 1))
        .1
}

/// The bundled collection indexed twice (the second run replaces every statement, so the index
/// holds deleted documents too), for ranking properties.
fn bundled_engine() -> &'static Engine {
    static ENGINE: OnceLock<(tempfile::TempDir, Engine)> = OnceLock::new();
    &ENGINE
        .get_or_init(|| crate::util::indexed("data/frameworks", 2))
        .1
}

/// The unfiltered search (pruned passes where it can) and the same search filtered by every
/// level (the plain and bonus-restricted queries merged) rank alike, but for ties.
fn same_ranking_filtered_or_not(
    req: &mut SearchRequest,
    ranking: &Ranking,
    words: &[impl std::fmt::Debug],
) -> Result<(), TestCaseError> {
    let pruned = search_ranked(bundled_engine(), req, ranking).unwrap().hits;
    req.levels = skillmap::domain::level::Level::ALL.to_vec();
    let merged = search_ranked(bundled_engine(), req, ranking).unwrap().hits;
    prop_assert_eq!(pruned.len(), merged.len(), "{:?}", words);
    let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * a.abs().max(1.0);
    for (i, (p, m)) in pruned.iter().zip(&merged).enumerate() {
        prop_assert!(
            close(p.score, m.score),
            "{:?} rank {}: {} vs {}",
            words,
            i,
            p.score,
            m.score
        );
        if p.id != m.id {
            // Only a tie (up to rounding) may order differently.
            let tied = |j: usize| merged.get(j).is_some_and(|n| close(n.score, p.score));
            prop_assert!(
                tied(i.wrapping_sub(1)) || tied(i + 1),
                "{:?} rank {}: {} vs {}",
                words,
                i,
                p.id,
                m.id
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A filter that excludes nothing changes nothing. The unfiltered search of plain words
    /// ranks statements with title matches by pruned passes over title-term subsets; a filtered
    /// one by the plain and title-restricted queries merged; both must give the same ranking.
    #[test]
    fn pruned_ranking_equals_the_merged_one(
        words in prop::collection::vec(prop::sample::select(crate::util::RANKING_WORDS), 1..5),
        offset in 0usize..40,
        limit in 1usize..30,
        ranking in prop::sample::select(vec![
            Ranking::STATEMENTS,
            Ranking::OCCUPATIONS,
            Ranking { title: 0.4, alt_titles: 0.0, phrase: 0.5, slop: 1 },
            Ranking { title: 0.0, alt_titles: 0.2, phrase: 1.0, slop: 0 },
            Ranking { title: 0.2, alt_titles: 0.1, phrase: 0.0, slop: 0 },
        ]),
    ) {
        let mut req = SearchRequest::new(words.join(" "));
        req.offset = offset;
        req.limit = limit;
        same_ranking_filtered_or_not(&mut req, &ranking, &words)?;
    }

    /// The same with misspelt words among them: the pruned passes add the typo-tolerant words'
    /// constant score, and check their matches, as the merged queries score them.
    #[test]
    fn pruned_ranking_with_misspelt_words_equals_the_merged_one(
        words in prop::collection::vec(
            (prop::sample::select(crate::util::RANKING_WORDS), any::<bool>()),
            1..4,
        ),
        offset in 0usize..20,
        limit in 1usize..30,
    ) {
        // A misspelling drops the third letter ("customer" -> "cusomer").
        let words: Vec<String> = words
            .into_iter()
            .map(|(w, typo)| match typo && w.len() >= 5 {
                true => format!("{}{}", &w[..2], &w[3..]),
                false => w.to_string(),
            })
            .collect();
        let mut req = SearchRequest::new(words.join(" "));
        req.offset = offset;
        req.limit = limit;
        same_ranking_filtered_or_not(&mut req, &Ranking::STATEMENTS, &words)?;
    }

    #[test]
    fn validation_never_panics_on_json_values(v in json_value()) {
        let bytes = serde_json::to_vec(&v).unwrap();
        let _ = skillmap::domain::framework::parse_export(&bytes);
    }

    #[test]
    fn validation_never_panics_on_bytes(b in prop::collection::vec(any::<u8>(), 0..300)) {
        let _ = skillmap::domain::framework::parse_export(&b);
    }

    #[test]
    fn any_query_text_searches(q in ".{0,60}") {
        let mut req = SearchRequest::new(q.clone());
        req.count = true;
        let r = search(engine(), &req);
        prop_assert!(r.is_ok(), "{q:?}: {r:?}");
        let r = r.unwrap();
        prop_assert!(r.hits.len() <= 10);
        prop_assert_eq!(r.total.unwrap() == 0, r.hits.is_empty());
    }

    #[test]
    fn adding_senior_language_never_lowers_the_level(
        words in prop::collection::vec(prop_oneof![
            prop::sample::select(vec![
                "junior", "senior", "intern", "director", "2 years", "works independently",
                "under close supervision", "cargo", "associate", "reports to the director", "lead",
                "1-3 years",
            ]).prop_map(str::to_string),
            "[a-z]{1,9}",
        ], 0..12),
        prior in 1.0f32..=4.0,
    ) {
        let text = words.join(" ");
        let before = combine(&cues(&text, 1.0), &[(prior, 0.1)]).unwrap();
        let more = format!("{text}\n10+ years, leads the department.");
        let after = combine(&cues(&more, 1.0), &[(prior, 0.1)]).unwrap();
        prop_assert!(after >= before - 1e-6, "{text:?}: {before} -> {after}");
        let less = format!("{text}\nEntry-level trainee.");
        let lower = combine(&cues(&less, 1.0), &[(prior, 0.1)]).unwrap();
        prop_assert!(lower <= before + 1e-6, "{text:?}: {before} -> {lower}");
    }
}
