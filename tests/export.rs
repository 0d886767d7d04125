//! `skillmap export`: flat statements round-trip, and the Quickwit/OpenSearch configurations.

use std::collections::{BTreeMap, BTreeSet};

use crate::util::{TestEnv, fixture_statements};

fn export_lines(env: &TestEnv, idx: &std::path::Path) -> Vec<serde_json::Value> {
    let out = env.run(&["export", "--index", idx.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Nested exports rebuilt from flat statements (one per SOC, levels in position order).
fn regroup(flat: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut by_soc: BTreeMap<String, Vec<&serde_json::Value>> = BTreeMap::new();
    for s in flat {
        by_soc
            .entry(s["soc"].as_str().unwrap().to_string())
            .or_default()
            .push(s);
    }
    by_soc
        .into_iter()
        .map(|(soc, mut st)| {
            st.sort_by_key(|s| (s["level_ord"].as_u64(), s["position"].as_u64()));
            let mut levels = serde_json::Map::new();
            for s in &st {
                let entry = levels
                    .entry(s["level"].as_str().unwrap().to_string())
                    .or_insert_with(|| serde_json::json!({"statements": []}));
                entry["statements"]
                    .as_array_mut()
                    .unwrap()
                    .push(s["text"].clone());
            }
            let mut occupation =
                serde_json::json!({"soc": soc, "title": st[0]["title"], "group": st[0]["group"]});
            if let Some(z) = st[0].get("job_zone") {
                occupation["jobZone"] = z.clone();
            }
            serde_json::json!({
                "schemaVersion": "1.0",
                "occupation": occupation,
                "framework": {"version": st[0]["version"], "levels": levels},
            })
        })
        .collect()
}

fn ranked(env: &TestEnv, idx: &std::path::Path, q: &str) -> Vec<(String, String)> {
    let out = env.run(&[
        "search",
        q,
        "--limit",
        "200",
        "--format",
        "json",
        "--index",
        idx.to_str().unwrap(),
    ]);
    let mut hits: Vec<(String, String)> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                format!("{:.4}", v["score"].as_f64().unwrap()),
                v["id"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    hits
}

#[test]
fn exported_statements_round_trip() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let flat = export_lines(&env, &env.index());
    let ids: BTreeSet<String> = flat
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    let expected: BTreeSet<String> = fixture_statements().into_iter().map(|s| s.0).collect();
    assert_eq!(flat.len(), expected.len());
    assert_eq!(ids, expected);
    // Re-index the exported statements and compare search results.
    let lines: String = regroup(&flat).iter().map(|e| format!("{e}\n")).collect();
    env.write("again/all.jsonl", lines);
    let second = env.path("idx2");
    let out = env.run(&["index", "again", "--index", second.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for q in [
        "cargo",
        "inspect cargo",
        "\"port of entry\"",
        "patient care",
        "supervision",
        "contrabnd",
    ] {
        let a = ranked(&env, &env.index(), q);
        let b = ranked(&env, &second, q);
        assert!(!a.is_empty(), "{q}");
        assert_eq!(a, b, "{q}");
    }
}

#[test]
fn quickwit_and_opensearch_configurations_have_every_field() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let idx = env.index();
    let flat = export_lines(&env, &idx);
    let fields: BTreeSet<String> = flat
        .iter()
        .flat_map(|s| s.as_object().unwrap().keys().cloned())
        .collect();
    let qw_dir = env.path("qw");
    let out = env.run(&[
        "export",
        "--format",
        "quickwit",
        "--out",
        qw_dir.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let qw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(qw_dir.join("quickwit-index.json")).unwrap())
            .unwrap();
    let qw_fields: BTreeSet<String> = qw["doc_mapping"]["field_mappings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap().to_string())
        .collect();
    assert!(fields.is_subset(&qw_fields), "{fields:?} vs {qw_fields:?}");
    let text = qw["doc_mapping"]["field_mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "text")
        .unwrap();
    assert_eq!(
        (text["tokenizer"].as_str(), text["record"].as_str()),
        (Some("en_stem"), Some("position"))
    );
    assert_eq!(
        std::fs::read_to_string(qw_dir.join("statements.ndjson"))
            .unwrap()
            .lines()
            .count(),
        flat.len()
    );
    let os_dir = env.path("os");
    let out = env.run(&[
        "export",
        "--format",
        "opensearch",
        "--out",
        os_dir.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let os: serde_json::Value =
        serde_json::from_slice(&std::fs::read(os_dir.join("opensearch-index.json")).unwrap())
            .unwrap();
    let os_fields: BTreeSet<String> = os["mappings"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert!(fields.is_subset(&os_fields), "{fields:?} vs {os_fields:?}");
    let bulk = std::fs::read_to_string(os_dir.join("bulk.ndjson")).unwrap();
    let lines: Vec<serde_json::Value> = bulk
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2 * flat.len());
    assert_eq!(lines[0]["index"]["_index"], "skillmap");
    assert_eq!(lines[0]["index"]["_id"], lines[1]["id"]);
}
