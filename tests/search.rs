//! `skillmap search`: exact matching against a brute-force scan, phrases, tiers, filters, paging.

use std::collections::BTreeSet;

use skillmap::index::analyzer::{index_analyzer, terms};

use crate::util::{TestEnv, fixture_statements};

fn indexed() -> TestEnv {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let (code, _) = env.index_json(&["in"]);
    assert_eq!(code, 0);
    env
}

fn ids(hits: &[serde_json::Value]) -> Vec<String> {
    hits.iter()
        .map(|h| h["id"].as_str().unwrap().to_string())
        .collect()
}

/// Statements whose stemmed text contains every one of `words`, by scanning the fixtures.
fn brute_force(words: &[&str]) -> BTreeSet<String> {
    let mut a = index_analyzer();
    let wanted: Vec<String> = words.iter().flat_map(|w| terms(&mut a, w)).collect();
    fixture_statements()
        .into_iter()
        .filter(|s| {
            let t = terms(&mut a, &s.4);
            wanted.iter().all(|w| t.contains(w))
        })
        .map(|s| s.0)
        .collect()
}

#[test]
fn single_words_find_exactly_the_statements_that_contain_them() {
    let env = indexed();
    for word in [
        "cargo",
        "inspecting",
        "supervision",
        "patients",
        "port",
        "forensic",
        "develop",
    ] {
        let expected = brute_force(&[word]);
        assert!(!expected.is_empty(), "{word} is in no fixture statement");
        let (code, hits) = env.json_lines(&["search", word, "--limit", "1000"]);
        assert_eq!(code, 0, "{word}");
        let got: BTreeSet<String> = ids(&hits).into_iter().collect();
        assert_eq!(got, expected, "{word}");
        assert!(hits.iter().all(|h| h["all_terms"] == true));
        // Scores never increase down the list.
        for w in hits.windows(2) {
            assert!(w[0]["score"].as_f64() >= w[1]["score"].as_f64(), "{word}");
        }
    }
}

#[test]
fn a_word_in_no_statement_finds_nothing() {
    let env = indexed();
    let (code, hits) = env.json_lines(&["search", "xylophone"]);
    assert_eq!((code, hits.len()), (1, 0));
}

#[test]
fn phrases_are_honoured() {
    let env = indexed();
    let (code, hits) = env.json_lines(&["search", "\"port of entry\"", "--limit", "1000"]);
    assert_eq!(code, 0);
    // Consecutive tokens, as the index sees them ("port-of-entry" counts too).
    let mut a = index_analyzer();
    let phrase = terms(&mut a, "port of entry");
    let expected: BTreeSet<String> = fixture_statements()
        .into_iter()
        .filter(|s| {
            terms(&mut a, &s.4)
                .windows(3)
                .any(|w| w == phrase.as_slice())
        })
        .map(|s| s.0)
        .collect();
    assert!(expected.len() >= 5);
    assert_eq!(ids(&hits).into_iter().collect::<BTreeSet<_>>(), expected);
    // The words without quotes match more statements than the phrase.
    let (_, loose) = env.json_lines(&["search", "port entry", "--limit", "1000"]);
    assert!(loose.len() >= hits.len());
}

#[test]
fn statements_with_every_word_come_first() {
    let env = indexed();
    let (code, hits) =
        env.json_lines(&["search", "cargo inspection supervision", "--limit", "1000"]);
    assert_eq!(code, 0);
    let all = brute_force(&["cargo", "inspection", "supervision"]);
    assert!(!all.is_empty());
    let n_all = hits.iter().take_while(|h| h["all_terms"] == true).count();
    assert_eq!(n_all, all.len());
    assert_eq!(
        ids(&hits[..n_all]).into_iter().collect::<BTreeSet<_>>(),
        all
    );
    assert!(hits[n_all..].iter().all(|h| h["all_terms"] == false));
    let any: BTreeSet<String> = ["cargo", "inspection", "supervision"]
        .iter()
        .flat_map(|w| brute_force(&[w]))
        .collect();
    assert_eq!(hits.len(), any.len());
}

#[test]
fn misspelled_words_still_find_their_statements_below_exact_matches() {
    let env = indexed();
    let (_, exact) = env.json_lines(&["search", "contraband", "--limit", "100"]);
    let (code, fuzzy) = env.json_lines(&["search", "contrabnd", "--limit", "100"]);
    assert_eq!(code, 0);
    let exact_ids: BTreeSet<String> = ids(&exact).into_iter().collect();
    assert!(exact_ids.is_subset(&ids(&fuzzy).into_iter().collect()));
    let min_exact = exact
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .fold(f64::MAX, f64::min);
    let max_fuzzy = fuzzy
        .iter()
        .map(|h| h["score"].as_f64().unwrap())
        .fold(0.0, f64::max);
    assert!(max_fuzzy < min_exact, "{max_fuzzy} vs {min_exact}");
    assert!(
        fuzzy[0]["snippet"].as_str().unwrap().contains("<mark>"),
        "{}",
        fuzzy[0]
    );
}

#[test]
fn filters_are_exact() {
    let env = indexed();
    let query = ["search", "inspect", "--limit", "1000"];
    let (_, all) = env.json_lines(&query);
    let check = |extra: &[&str], keep: &dyn Fn(&serde_json::Value) -> bool| {
        let mut args = query.to_vec();
        args.extend_from_slice(extra);
        let (_, hits) = env.json_lines(&args);
        let expected: Vec<String> =
            ids(&all.iter().filter(|h| keep(h)).cloned().collect::<Vec<_>>());
        let mut got = ids(&hits);
        let mut expected = expected;
        got.sort();
        expected.sort();
        assert_eq!(got, expected, "{extra:?}");
        assert!(!got.is_empty(), "{extra:?}");
    };
    let soc =
        |p: &'static str| move |h: &serde_json::Value| h["soc"].as_str().unwrap().starts_with(p);
    check(&["--soc", "33"], &soc("33"));
    check(&["--soc", "33-3000"], &soc("33-3"));
    check(&["--soc", "33-30"], &soc("33-30"));
    check(&["--soc", "33-305"], &soc("33-305"));
    check(&["--soc", "33-3051"], &soc("33-3051"));
    check(&["--soc", "33-3051.04"], &soc("33-3051.04"));
    check(&["--soc", "33", "--soc", "53"], &|h| {
        soc("33")(h) || soc("53")(h)
    });
    check(&["--level", "advanced"], &|h| h["level"] == "advanced");
    check(&["--level", "emerging", "--level", "proficient"], &|h| {
        h["level"] == "emerging" || h["level"] == "proficient"
    });
    check(&["--job-zone", "3"], &|h| h["job_zone"] == 3);
    check(&["--soc", "33", "--level", "developing"], &|h| {
        soc("33")(h) && h["level"] == "developing"
    });
    let out = env.run(&[
        "search",
        "inspect",
        "--soc",
        "3x",
        "--index",
        env.index().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a SOC code"));
}

#[test]
fn pages_do_not_overlap_or_skip() {
    let env = indexed();
    let (_, all) = env.json_lines(&["search", "inspect cargo supervision", "--limit", "1000"]);
    assert!(all.len() > 12);
    let mut paged = Vec::new();
    for offset in (0..all.len()).step_by(5) {
        let off = offset.to_string();
        let (_, page) = env.json_lines(&[
            "search",
            "inspect cargo supervision",
            "--limit",
            "5",
            "--offset",
            &off,
        ]);
        assert_eq!(page[0]["rank"], offset as u64 + 1);
        paged.extend(ids(&page));
    }
    assert_eq!(paged, ids(&all));
}

#[test]
fn hostile_plain_text_never_errors() {
    let env = indexed();
    for q in [
        "\"C++ && (SQL) -- 5+ yrs: 'lead'",
        "5+ years (Python)",
        "https://example.com/jobs?id=1&x=\"y",
        "AND OR NOT",
        "title:foo^2 [a TO b] {c}",
        "\"",
        "((((",
        "-",
        "ünïcödé 漢字 🚀",
    ] {
        let out = env.run(&["search", q, "--index", env.index().to_str().unwrap()]);
        let code = out.status.code();
        assert!(
            code == Some(0) || code == Some(1),
            "{q}: {code:?} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn occupations_are_ranked_by_their_evidence() {
    let env = indexed();
    let (code, occ) = env.json_lines(&["search", "cargo inspection", "--by-occupation"]);
    assert_eq!(code, 0);
    assert!(occ.len() >= 2);
    // The customs officers have the most cargo-inspection statements.
    assert_eq!(occ[0]["soc"], "33-3051.04");
    for w in occ.windows(2) {
        assert!(w[0]["score"].as_f64() >= w[1]["score"].as_f64());
    }
    for o in &occ {
        let spread: u64 = o["levels"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(spread, o["matched"].as_u64().unwrap());
        assert!(!o["hits"].as_array().unwrap().is_empty());
        assert!(
            o["hits"]
                .as_array()
                .unwrap()
                .iter()
                .all(|h| h["soc"] == o["soc"])
        );
    }
}

#[test]
fn explain_shows_term_contributions() {
    let env = indexed();
    let (_, hits) = env.json_lines(&["search", "cargo", "--explain", "--limit", "1"]);
    let explain = hits[0]["explain"].to_string();
    assert!(explain.contains("cargo"), "{explain}");
    let score = hits[0]["score"].as_f64().unwrap();
    let explained = hits[0]["explain"]["value"].as_f64().unwrap();
    assert!((score - explained).abs() < 1e-3, "{score} vs {explained}");
}

#[test]
fn human_output_and_exit_codes() {
    let env = indexed();
    let idx = env.index();
    let out = env.run(&[
        "search",
        "cargo",
        "--index",
        idx.to_str().unwrap(),
        "-n",
        "2",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("1. "), "{text}");
    assert!(text.contains("statement(s) match"), "{text}");
    assert!(!text.contains('\x1b'), "no colour when not a terminal");
    let out = env.run(&["search", "qqqqzzzz", "--index", idx.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let out = env.run(&[
        "search",
        "cargo",
        "--index",
        env.path("nowhere").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no index at"));
}

#[test]
fn default_index_is_built_from_data_on_first_use() {
    let env = TestEnv::new();
    env.copy("frameworks", "data");
    let out = env.run(&["search", "cargo"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("building it from data/"));
    assert!(env.path("index/meta.json").is_file());
    // Second run: no rebuild message.
    let out = env.run(&["search", "cargo"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("building"));
}

/// The bundled collection carries O*NET's job zones, so the job-zone filter finds statements
/// there, and only statements of that zone (regression: the sample exports had no `jobZone`).
#[test]
fn regression_11_job_zone_filter_finds_bundled_statements() {
    let env = crate::util::bundled();
    let (code, hits) = env.json_lines(&["search", "inspect", "--job-zone", "3", "--limit", "50"]);
    assert_eq!(code, 0);
    let hits: Vec<_> = hits.iter().filter(|h| h.get("soc").is_some()).collect();
    assert!(hits.len() >= 10, "{hits:?}");
    assert!(hits.iter().all(|h| h["job_zone"] == 3), "{hits:?}");
}

/// The level wording of the bundled collection does not make every advanced statement match a
/// skill word (regression: each one ended in "setting strategy and policy across the
/// organization").
#[test]
fn regression_11_level_wording_does_not_match_skill_words() {
    let env = crate::util::bundled();
    // Level wording is the final clause that many statements share ("…, setting direction and
    // priorities across the organization."); a real task's own last clause is its own.
    let out = env.run(&["export", "--index", env.index().to_str().unwrap()]);
    let all: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(all.len() > 10_000, "the bundled collection is exported");
    let mut tails: std::collections::HashMap<String, usize> = Default::default();
    let last_clause = |s: &str| -> (String, String) {
        let action = s.split_once(" — ").map_or(s, |(_, a)| a);
        match action.rsplit_once(", ") {
            Some((task, tail)) => (task.to_lowercase(), tail.to_string()),
            None => (action.to_lowercase(), String::new()),
        }
    };
    for st in &all {
        *tails
            .entry(last_clause(st["text"].as_str().unwrap()).1)
            .or_default() += 1;
    }
    for word in ["policy", "strategy"] {
        let (_, hits) = env.json_lines(&["search", word, "--level", "advanced", "--limit", "50"]);
        let hits: Vec<_> = hits.iter().filter(|h| h.get("soc").is_some()).collect();
        assert!(!hits.is_empty(), "some advanced tasks are about {word}");
        for h in hits {
            let statement = h["statement"].as_str().unwrap();
            let (task, tail) = last_clause(statement);
            // The word is in the task itself, not only in the wording appended for the level.
            let task = if tails[&tail] >= 5 {
                task
            } else {
                statement.to_lowercase()
            };
            let stem = &word[..5];
            assert!(
                task.contains(stem) || h["topic"].as_str().unwrap().to_lowercase().contains(stem),
                "{statement}"
            );
        }
    }
}

#[test]
fn help_lists_no_generator_commands() {
    let env = TestEnv::new();
    let out = env.run(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(help.contains("search"), "{help}");
    assert!(!help.contains("gen-"), "{help}");
    let out = env.run(&["gen-sample"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the generators are not product commands"
    );
}

/// regression_12: occupations whose titles or tools name the query rank first: Python users had
/// no statement to match, and forklift drivers ranked below team assemblers.
#[test]
fn regression_12_titles_and_tools_rank_occupations() {
    let env = crate::util::bundled();
    for (query, first) in [("python", "15-1252.00"), ("forklift", "53-7051.00")] {
        let (code, occupations) =
            env.json_lines(&["search", query, "--by-occupation", "--limit", "5"]);
        assert_eq!(code, 0, "{query}");
        assert_eq!(occupations[0]["soc"], first, "{query}: {occupations:?}");
        let named = occupations[0]["named_by"].as_array().unwrap();
        assert!(
            named
                .iter()
                .any(|n| n.as_str().unwrap().to_lowercase().contains(query)),
            "{query}: {named:?}"
        );
    }
    // A level filter asks where in the framework: titles and tools cannot say, so they do not
    // rank occupations then.
    let (_, occupations) =
        env.json_lines(&["search", "python", "--by-occupation", "--level", "advanced"]);
    assert!(
        occupations.iter().all(|o| o.get("named_by").is_none()),
        "{occupations:?}"
    );
}
