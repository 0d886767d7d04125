//! Hostile inputs: every file gets a clear error of its own and the good files beside it are
//! indexed all the same.

use std::os::unix::fs::symlink;

use crate::util::TestEnv;

#[test]
fn hostile_files_get_their_own_errors_and_good_files_are_indexed() {
    let env = TestEnv::new();
    env.copy("frameworks", "in/good");
    env.copy("hostile", "in/hostile");
    // Made here, too large or too odd to keep in the repository:
    let real = std::fs::read_to_string(crate::util::fixture("frameworks/33-3051.04.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&real).unwrap();
    v["occupation"]["soc"] = "33-3051.08".into();
    v["framework"]["levels"]["emerging"]["statements"][0] = "x".repeat(20 << 20).into();
    env.write(
        "in/hostile/huge_statement.json",
        serde_json::to_vec(&v).unwrap(),
    );
    let mut levels = serde_json::Map::new();
    for i in 0..10_000 {
        levels.insert(
            format!("level{i}"),
            serde_json::json!({"statements": ["a — b"]}),
        );
    }
    let many = serde_json::json!({"schemaVersion": "1.0", "occupation": {"soc": "47-2061.09", "title": "T"},
        "framework": {"levels": levels}});
    env.write("in/hostile/levels_10000.json", many.to_string());
    std::fs::create_dir_all(env.path("in/loop")).unwrap();
    symlink(env.path("in"), env.path("in/loop/back")).unwrap();
    symlink(
        env.path("in/nowhere.json"),
        env.path("in/hostile/vanished.json"),
    )
    .unwrap();
    // Root reads any file regardless of its mode; /proc/self/mem refuses to be read at offset 0.
    symlink("/proc/self/mem", env.path("in/hostile/unreadable.json")).unwrap();

    let (code, report) = env.index_json(&["in", "--max-file-size", "16"]);
    assert_eq!(code, 2, "{report}");
    // The three good fixtures and the BOM export are indexed; nothing else.
    assert_eq!(report["occupations"], 4, "{report}");
    let rejected = report["rejected"].as_array().unwrap();
    let reason = |name: &str| -> String {
        rejected
            .iter()
            .filter(|r| r["path"].as_str().unwrap().ends_with(name))
            .map(|r| r.to_string())
            .next()
            .unwrap_or_else(|| panic!("{name} was not rejected: {report}"))
    };
    for (name, needle) in [
        ("truncated.json", "truncated"),
        ("wrong_types.json", "framework.levels.emerging.statements"),
        ("utf16.json", "UTF-16"),
        ("nul.json", "control character U+0000"),
        ("nul_raw.json", "NUL byte"),
        ("empty.json", "empty"),
        ("deep.json", "recursion limit"),
        ("array.json", "expected a JSON object"),
        ("huge_statement.json", "over the limit"),
        ("levels_10000.json", "unknown level name"),
        ("vanished.json", "No such file"),
        ("unreadable.json", "cannot read"),
    ] {
        let r = reason(name);
        assert!(r.contains(needle), "{name}: {r}");
    }
    // The symbolic link loop is listed as skipped (its folder is read once), not rejected.
    assert!(
        !rejected
            .iter()
            .any(|r| r["message"].as_str().unwrap().contains("loop")),
        "{report}"
    );
    assert!(
        report["skipped"].as_array().unwrap().iter().any(|s| {
            s["path"].as_str().unwrap().ends_with("loop/back")
                && s["reason"].as_str().unwrap().contains("loop")
        }),
        "the symlink loop is reported as skipped: {report}"
    );
    assert!(
        !rejected
            .iter()
            .any(|r| r["path"].as_str().unwrap().ends_with("bom.json"))
    );
    // A larger size limit lets the 20 MB file be read, and the statement limit names the field.
    let one = env.path("one");
    std::fs::create_dir_all(&one).unwrap();
    std::fs::rename(
        env.path("in/hostile/huge_statement.json"),
        one.join("huge.json"),
    )
    .unwrap();
    let (code, report) = env.index_json(&["one", "--max-file-size", "64"]);
    assert_eq!(code, 2);
    let msg = report["rejected"][0].to_string();
    assert!(
        msg.contains("framework.levels.emerging.statements[0]") && msg.contains("at most 10000"),
        "{msg}"
    );
}
