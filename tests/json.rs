//! The JSON output contract: every line deserializes into strict structs (unknown fields fail).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::util::TestEnv;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Hit {
    rank: usize,
    id: String,
    soc: String,
    title: String,
    group: String,
    level: String,
    level_ord: u64,
    position: u64,
    job_zone: Option<u64>,
    topic: String,
    statement: String,
    score: f64,
    all_terms: bool,
    snippet: String,
    highlights: Vec<[usize; 2]>,
    #[serde(default)]
    explain: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Occupation {
    rank: usize,
    soc: String,
    title: String,
    group: String,
    job_zone: Option<u64>,
    score: f64,
    matched: usize,
    levels: BTreeMap<String, u64>,
    hits: Vec<Hit>,
    #[serde(default)]
    named_by: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Group {
    code: String,
    name: String,
    occupations: u64,
    statements: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Stats {
    occupations: u64,
    statements: u64,
    levels: BTreeMap<String, u64>,
    groups: Vec<Group>,
    bytes: u64,
    segments: usize,
}

fn lines<T: for<'de> Deserialize<'de>>(env: &TestEnv, args: &[&str]) -> Vec<T> {
    let idx = env.index();
    let mut all = args.to_vec();
    all.extend_from_slice(&["--index", idx.to_str().unwrap(), "--format", "json"]);
    let out = env.run(&all);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn json_output_matches_the_contract() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let hits: Vec<Hit> = lines(&env, &["search", "inspect cargo", "--explain"]);
    assert!(!hits.is_empty());
    for h in &hits {
        let chars: Vec<char> = h.statement.chars().collect();
        assert!(!h.highlights.is_empty(), "{h:?}");
        for [a, b] in &h.highlights {
            let word: String = chars[*a..*b].iter().collect::<String>().to_lowercase();
            assert!(
                word.starts_with("inspect") || word.starts_with("cargo"),
                "{word}"
            );
        }
        assert!(h.snippet.contains("<mark>"));
        assert_eq!(
            h.level_ord,
            ["emerging", "developing", "proficient", "advanced"]
                .iter()
                .position(|l| *l == h.level)
                .unwrap() as u64
                + 1
        );
    }
    let occ: Vec<Occupation> = lines(&env, &["search", "inspect cargo", "--by-occupation"]);
    assert!(!occ.is_empty());
    let stats: Vec<Stats> = lines(&env, &["stats"]);
    assert_eq!(stats[0].levels.len(), 4);
}

#[test]
fn statement_text_is_escaped_in_snippets() {
    let env = TestEnv::new();
    let real = std::fs::read_to_string(crate::util::fixture("frameworks/33-3051.04.json")).unwrap();
    let hostile = real.replace(
        "Immigration applications and travel documents — review",
        "<script>alert(1)</script> cargo & \\\"quotes\\\" — review",
    );
    env.write("in/x.json", hostile);
    env.index_json(&["in"]);
    let hits: Vec<Hit> = lines(&env, &["search", "alert cargo"]);
    let h = hits
        .iter()
        .find(|h| h.statement.contains("<script>"))
        .expect("hostile statement found");
    assert!(h.snippet.contains("&lt;script&gt;"), "{}", h.snippet);
    assert!(!h.snippet.contains("<script>"));
}
