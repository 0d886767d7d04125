//! Ranking identity: the JSON answers of 30 searches (statements and occupations, with and
//! without filters) and of 6 mappings on the bundled collection equal a file recorded before the
//! redesign. A change of ranking must be deliberate: re-record with
//! `SKILLMAP_RECORD_RANKINGS=1 cargo test --test tests rankings` and review the diff.

use crate::util::{TestEnv, bundled_data};

/// The recorded answers, one JSON object per case: `{"case": [...args], "answer": [...lines]}`.
const RECORDED: &str = "tests/fixtures/rankings/recorded.jsonl";

/// Thirty searches: the bench queries as users type them, then filters, pages, phrases, typos,
/// explanations and the hybrid ranking.
fn search_cases() -> Vec<Vec<&'static str>> {
    let plain = [
        "inspect cargo",
        "risk assessment",
        "forklift",
        "patient care",
        "budget",
        "customer service",
        "\"quality control\"",
        "train staff",
        "5+ years (Python)",
        "welding equipment",
        "data analysis reports",
        "safety procedures",
        "contrabnd",
        "supervise",
        "financial records",
        "repair electrical wiring",
        "legal documents",
        "teach students",
        "marketing strategy",
        "maintain equipment",
    ];
    let mut cases: Vec<Vec<&str>> = plain.iter().map(|q| vec!["search", q]).collect();
    cases.extend([
        vec!["search", "inspect", "--soc", "33"],
        vec!["search", "inspect", "--soc", "53-6051"],
        vec![
            "search", "budget", "--level", "advanced", "--level", "emerging",
        ],
        vec![
            "search",
            "patient care",
            "--job-zone",
            "3",
            "--job-zone",
            "4",
        ],
        vec![
            "search",
            "maintain equipment",
            "--limit",
            "5",
            "--offset",
            "5",
        ],
        vec!["search", "welding", "--explain", "--limit", "3"],
        vec!["search", "customer service", "--hybrid"],
        vec![
            "search",
            "nursing care",
            "--hybrid",
            "--semantic-ratio",
            "0.6",
        ],
        vec!["search", "\"inspect cargo\" -customs"],
        vec!["search", "teach", "--soc", "25", "--level", "proficient"],
    ]);
    cases
}

fn occupation_cases() -> Vec<Vec<&'static str>> {
    vec![
        vec!["search", "inspect cargo", "--by-occupation"],
        vec!["search", "patient care", "--by-occupation", "--limit", "5"],
        vec!["search", "budget", "--by-occupation", "--soc", "11"],
        vec![
            "search",
            "welding",
            "--by-occupation",
            "--level",
            "advanced",
        ],
        vec!["search", "customer service", "--by-occupation", "--hybrid"],
        vec![
            "search",
            "teach students",
            "--by-occupation",
            "--job-zone",
            "4",
        ],
    ]
}

fn map_cases() -> Vec<Vec<&'static str>> {
    vec![
        vec![
            "map",
            "--text",
            "Registered nurse caring for patients in an ICU",
        ],
        vec!["map", "--title", "senior data engineer (remote)"],
        vec!["map", "--title", "forklift operator", "--top", "3"],
        vec![
            "map",
            "--text",
            "Inspect cargo and luggage at the port of entry; interview travellers.",
        ],
        vec!["map", "--title", "finance manager"],
        vec!["map", "--title", "pilates instructor"],
    ]
}

/// Every case with its answer, as the binary prints it in JSON.
fn answers() -> Vec<serde_json::Value> {
    // One indexing thread: documents then enter in the walk's order, so the order of tied
    // scores (broken by document address, as tantivy's own top-k does) is the same each run.
    let env = TestEnv::new();
    let (code, report) = env.index_json(&[bundled_data().to_str().unwrap(), "--threads", "1"]);
    assert_eq!(code, 0, "{report}");
    let mut out = Vec::new();
    for case in search_cases()
        .into_iter()
        .chain(occupation_cases())
        .chain(map_cases())
    {
        let (code, lines) = env.json_lines(&case);
        assert!(code == 0 || code == 1, "{case:?} exited with {code}");
        out.push(serde_json::json!({ "case": case, "answer": lines }));
    }
    out
}

#[test]
fn rankings_on_the_bundled_collection_equal_the_recorded_ones() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(RECORDED);
    let actual = answers();
    assert_eq!(actual.len(), 42);
    if std::env::var_os("SKILLMAP_RECORD_RANKINGS").is_some() {
        let text: String = actual.iter().map(|v| format!("{v}\n")).collect();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let recorded = std::fs::read_to_string(&path).expect("the recorded rankings");
    let recorded: Vec<serde_json::Value> = recorded
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(recorded.len(), actual.len(), "cases were added or removed");
    for (want, got) in recorded.iter().zip(&actual) {
        assert_eq!(want["case"], got["case"], "the cases changed order");
        // Each case on its own, so that a failure names the query.
        assert!(
            same(&want["answer"], &got["answer"]),
            "the answer to {} changed:\nrecorded: {}\nnow:      {}",
            want["case"],
            want["answer"],
            got["answer"]
        );
    }
}

/// Equal JSON, but that scores may differ in float rounding (a score summed in another order
/// can move in its last bit): numbers with a fraction agree to a relative 1e-6.
fn same(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            (x - y).abs() <= 1e-6 * x.abs().max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
