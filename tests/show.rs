//! `skillmap show`: a framework as indexed, in order; unknown codes name the closest ones.

use crate::util::{TestEnv, fixture};

#[test]
fn show_returns_levels_in_order() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let (code, lines) = env.json_lines(&["show", "33-3051.04"]);
    assert_eq!(code, 0);
    let v = &lines[0];
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("frameworks/33-3051.04.json")).unwrap())
            .unwrap();
    assert_eq!(v["title"], raw["occupation"]["title"]);
    assert_eq!(v["group"], "Protective Service");
    assert_eq!(v["job_zone"], 3);
    let levels = v["levels"].as_array().unwrap();
    let names: Vec<&str> = levels
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["emerging", "developing", "proficient", "advanced"]);
    for l in levels {
        let name = l["level"].as_str().unwrap();
        assert_eq!(
            l["statements"], raw["framework"]["levels"][name]["statements"],
            "{name}"
        );
    }
    let (_, only) = env.json_lines(&["show", "33-3051.04", "--level", "advanced"]);
    assert_eq!(only[0]["levels"].as_array().unwrap().len(), 1);
}

#[test]
fn unknown_soc_names_the_closest_codes() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let out = env.run(&[
        "show",
        "33-3051.05",
        "--index",
        env.index().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no occupation 33-3051.05"), "{err}");
    assert!(err.contains("closest codes: 33-3051.04"), "{err}");
}
