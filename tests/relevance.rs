//! `skillmap eval-search` on the judged queries in data/relevance/: the ranking keeps its
//! quality (a recorded floor), baselines' runs are measured the same way, and bad judgment
//! files get precise errors.

use crate::util::{TestEnv, bundled, bundled_data};

fn judged(name: &str) -> String {
    bundled_data()
        .join("relevance")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// nDCG@10 floors, a little under the figures recorded in data/relevance/README.md (0.892 on
/// every query, 0.901 on the held-out half): a change that loses more fails here.
const FLOOR_ALL: f64 = 0.885;
const FLOOR_HELD_OUT: f64 = 0.89;

/// The bundled collection indexed with one thread: the same layout every run, so tied
/// statements come in the same order as when the figures were recorded.
fn one_thread_index() -> &'static TestEnv {
    static ENV: std::sync::OnceLock<TestEnv> = std::sync::OnceLock::new();
    ENV.get_or_init(|| {
        let env = TestEnv::new();
        let data = bundled_data();
        let (code, report) = env.index_json(&[data.to_str().unwrap(), "--threads", "1"]);
        assert_eq!(code, 0, "{report}");
        env
    })
}

fn eval(split: &str) -> serde_json::Value {
    eval_with("qrels.txt", split, &[])
}

fn eval_with(qrels: &str, split: &str, more: &[&str]) -> serde_json::Value {
    let (queries, qrels) = (judged("queries.tsv"), judged(qrels));
    let mut args = vec!["eval-search", &queries, &qrels, "--split", split];
    args.extend_from_slice(more);
    let (code, lines) = one_thread_index().json_lines(&args);
    assert_eq!(code, 0, "{lines:?}");
    lines.into_iter().next().unwrap()
}

#[test]
fn ranking_quality_stays_above_its_floor() {
    for (split, floor, min_queries) in [("all", FLOOR_ALL, 90), ("held-out", FLOOR_HELD_OUT, 45)] {
        let r = eval(split);
        let mean = &r["mean"];
        let n = mean["queries"].as_u64().unwrap();
        assert!(n >= min_queries, "{split}: {n} queries measured");
        let ndcg = mean["ndcg10"].as_f64().unwrap();
        assert!(
            ndcg >= floor,
            "{split}: nDCG@10 {ndcg:.3} fell under its floor {floor}"
        );
        // The judgments cover what the shipped ranking shows: a ranking change that surfaces
        // statements nobody judged needs them judged (benches/relevance_pool.py) before its
        // figure means anything.
        assert!(
            mean["unjudged10"].as_u64().unwrap() <= 2,
            "{split}: {} unjudged statements in the top 10s",
            mean["unjudged10"]
        );
        for q in r["per_query"].as_array().unwrap() {
            let v = q["ndcg10"].as_f64().unwrap();
            assert!((0.0..=1.0 + 1e-9).contains(&v), "{q}");
        }
    }
    // The halves partition the queries.
    let (all, tune, held) = (eval("all"), eval("tune"), eval("held-out"));
    let count = |r: &serde_json::Value| r["mean"]["queries"].as_u64().unwrap();
    assert_eq!(count(&all), count(&tune) + count(&held));
}

/// Occupation ranking's nDCG@10 floors, a little under the figures recorded in
/// data/relevance/README.md.
const OCCUPATION_FLOOR_ALL: f64 = OCCUPATION_ALL - 0.01;
const OCCUPATION_FLOOR_HELD_OUT: f64 = OCCUPATION_HELD_OUT - 0.01;
/// The recorded figures (`eval-search --by-occupation` on a one-thread build).
const OCCUPATION_ALL: f64 = 0.793;
const OCCUPATION_HELD_OUT: f64 = 0.798;

#[test]
fn occupation_ranking_quality_stays_above_its_floor() {
    let split = |s| eval_with("occupation-qrels.txt", s, &["--by-occupation"]);
    let (all, tune, held) = (split("all"), split("tune"), split("held-out"));
    for (name, r, floor, min_queries) in [
        ("all", &all, OCCUPATION_FLOOR_ALL, 95),
        ("held-out", &held, OCCUPATION_FLOOR_HELD_OUT, 48),
    ] {
        let mean = &r["mean"];
        assert!(
            mean["queries"].as_u64().unwrap() >= min_queries,
            "{name}: {mean}"
        );
        let ndcg = mean["ndcg10"].as_f64().unwrap();
        assert!(
            ndcg >= floor,
            "{name}: occupation nDCG@10 {ndcg:.3} fell under its floor {floor:.3}"
        );
        // Every occupation in the shipped ranking's top 10s has been judged.
        assert_eq!(mean["unjudged10"], 0, "{name}: {mean}");
    }
    let count = |r: &serde_json::Value| r["mean"]["queries"].as_u64().unwrap();
    assert_eq!(count(&all), count(&tune) + count(&held));
}

#[test]
fn a_run_file_is_measured_like_skillmaps_own_ranking() {
    let env = TestEnv::new();
    env.write("q.tsv", "a\tinspect cargo\nb\tforklift\n");
    env.write("qrels.txt", "a 0 s1 2\na 0 s2 1\na 0 s3 0\nb 0 s4 0\n");
    // The ideal order for a, and b has nothing relevant (left out of the mean).
    env.write("ideal.run", "a Q0 s1 1 9 t\na Q0 s2 2 8 t\nb Q0 s4 1 1 t\n");
    let out = env.run(&[
        "eval-search",
        env.path("q.tsv").to_str().unwrap(),
        env.path("qrels.txt").to_str().unwrap(),
        "--run",
        env.path("ideal.run").to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["mean"]["queries"], 1);
    assert!(
        (r["mean"]["ndcg10"].as_f64().unwrap() - 1.0).abs() < 1e-9,
        "{r}"
    );
    assert_eq!(r["no_relevant"], serde_json::json!(["b"]));
    // Unjudged statements in front count as grade 0 and are reported.
    env.write("worse.run", "a Q0 x 1 9 t\na Q0 y 2 8 t\na Q0 s1 3 7 t\n");
    let out = env.run(&[
        "eval-search",
        env.path("q.tsv").to_str().unwrap(),
        env.path("qrels.txt").to_str().unwrap(),
        "--run",
        env.path("worse.run").to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("unjudged in top 10: 2"), "{text}");
    assert!(text.contains("P@10 0.100"), "{text}");
}

#[test]
fn bad_judgments_and_a_wrong_index_are_clear_errors() {
    let env = bundled();
    let bad = TestEnv::new();
    bad.write("q.tsv", "a\tinspect cargo\n");
    // Runs eval-search on these judgments against the bundled index: (exit code, stderr).
    let eval_with = |qrels: &str| {
        bad.write("qrels.txt", qrels);
        let out = env.run(&[
            "eval-search",
            bad.path("q.tsv").to_str().unwrap(),
            bad.path("qrels.txt").to_str().unwrap(),
            "--index",
            env.index().to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.status.code(), err)
    };
    let (code, err) = eval_with("a 0 33-3051.04:emerging:1 2\na 0 33-3051.04:emerging:2 5\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("qrels.txt: line 2: grade `5` is not 0, 1 or 2"),
        "{err}"
    );
    // Judgments of statements the index does not hold: another collection, not a bad ranking.
    let (code, err) = eval_with("a 0 99-9999.99:emerging:1 2\n");
    assert_eq!(code, Some(2));
    assert!(
        err.contains("1 judged statements are not in the index") && err.contains("99-9999.99"),
        "{err}"
    );
    // The same for occupations.
    bad.write("qrels.txt", "a 0 99-9999.99 2\na 0 33-3051.04 1\n");
    let out = env.run(&[
        "eval-search",
        bad.path("q.tsv").to_str().unwrap(),
        bad.path("qrels.txt").to_str().unwrap(),
        "--by-occupation",
        "--index",
        env.index().to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("1 judged occupations are not in the index") && err.contains("99-9999.99"),
        "{err}"
    );
}
