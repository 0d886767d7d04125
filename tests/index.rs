//! `skillmap index`: counts, idempotence, optimize, bad files, strict mode, duplicates, schema,
//! locks, kills.

use std::time::{Duration, Instant};

use crate::util::{TestEnv, fixture_statements};

fn stats(env: &TestEnv) -> serde_json::Value {
    let (code, lines) = env.json_lines(&["stats"]);
    assert_eq!(code, 0);
    lines.into_iter().next().unwrap()
}

#[test]
fn counts_match_the_fixtures() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 0, "{report}");
    let expected = fixture_statements();
    assert_eq!(report["statements_added"], expected.len() as u64);
    assert_eq!(report["occupations"], 3);
    assert_eq!(report["files_read"], 3);
    assert_eq!(report["rejected"].as_array().unwrap().len(), 0);
    let s = stats(&env);
    assert_eq!(s["occupations"], 3);
    assert_eq!(s["statements"], expected.len() as u64);
    for level in ["emerging", "developing", "proficient", "advanced"] {
        let n = expected.iter().filter(|s| s.3 == level).count() as u64;
        assert_eq!(s["levels"][level], n, "{level}");
    }
    let groups: Vec<&str> = s["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["code"].as_str().unwrap())
        .collect();
    assert_eq!(groups, ["29", "33", "53"]);
    assert_eq!(s["groups"][1]["name"], "Protective Service");
    assert!(s["bytes"].as_u64().unwrap() > 0);
    assert!(s["segments"].as_u64().unwrap() >= 1);
}

#[test]
fn reindexing_is_idempotent_and_reports_replacements() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let (_, first) = env.index_json(&["in"]);
    let before = stats(&env);
    let (code, second) = env.index_json(&["in"]);
    assert_eq!(code, 0);
    assert_eq!(second["statements_replaced"], first["statements_added"]);
    let mut after = stats(&env);
    let mut before = before;
    // Size and segments may differ; the contents may not.
    for v in [&mut before, &mut after] {
        v.as_object_mut().unwrap().remove("bytes");
        v.as_object_mut().unwrap().remove("segments");
    }
    assert_eq!(before, after);
}

#[test]
fn optimize_leaves_one_segment_with_the_same_contents() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    env.index_json(&["in"]);
    let before = stats(&env);
    assert!(before["segments"].as_u64().unwrap() > 1, "{before}");
    let search = |env: &TestEnv| env.json_lines(&["search", "inspect cargo", "--format", "json"]);
    let hits_before = search(&env);
    let (code, report) = env.index_json(&["in", "--optimize"]);
    assert_eq!(code, 0, "{report}");
    let after = stats(&env);
    assert_eq!(after["segments"], 1, "{after}");
    assert_eq!(after["statements"], before["statements"]);
    assert_eq!(after["occupations"], before["occupations"]);
    assert_eq!(search(&env), hits_before);
}

#[test]
fn bad_files_are_reported_and_good_ones_indexed() {
    let env = TestEnv::new();
    env.copy("frameworks", "in/good");
    env.copy("malformed", "in/bad");
    env.copy("jsonl", "in/lines");
    env.write("in/notes.txt", "not an export");
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 2, "{report}");
    // 3 good files + 2 good JSON Lines records.
    assert_eq!(report["occupations"], 5, "{report}");
    let rejected = report["rejected"].as_array().unwrap();
    let find = |name: &str| {
        rejected
            .iter()
            .find(|r| r["path"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("{name} not rejected: {report}"))
    };
    let expect = |name: &str, needle: &str| {
        let r = find(name);
        let text = r.to_string();
        assert!(text.contains(needle), "{name}: {text}");
        r.clone()
    };
    let t = expect("truncated.json", "truncated");
    assert!(t["line"].is_u64() && t["column"].is_u64(), "{t}");
    let w = expect("wrong_type.json", "occupation.jobZone");
    assert_eq!(w["line"], 9);
    expect("bad_soc.json", "not an O*NET-SOC code");
    expect("unknown_level.json", "framework.levels.beginner");
    expect("empty_level.json", "no statements");
    expect(
        "empty_statement.json",
        "framework.levels.advanced.statements[1]",
    );
    expect("missing_title.json", "missing field `title`");
    let u = expect("not_utf8.json", "invalid UTF-8");
    assert!(u["line"].is_u64(), "{u}");
    expect("empty.json", "empty");
    let l = expect("mixed.jsonl", "truncated");
    assert_eq!(l["line"], 2, "{l}");
    assert_eq!(rejected.len(), 10, "{report}");
    let skipped = report["skipped"][0]["path"].as_str().unwrap();
    assert!(skipped.ends_with("notes.txt"), "{skipped}");
    assert_eq!(stats(&env)["occupations"], 5);
}

#[test]
fn json_lines_files_are_limited_per_line_not_as_a_whole() {
    // 300 exports (about 2.6 MB) and, as line 151, one record of 1.5 MiB: with a 1 MiB limit the
    // file is read, every export is indexed and the long line alone is rejected by its number.
    let env = TestEnv::new();
    let real: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::fixture("frameworks/33-3051.04.json")).unwrap(),
    )
    .unwrap();
    let mut text = String::new();
    for i in 0..300 {
        if i == 150 {
            let mut v = real.clone();
            v["occupation"]["title"] = "t".repeat(3 << 19).into();
            text.push_str(&serde_json::to_string(&v).unwrap());
            text.push('\n');
        }
        let mut v = real.clone();
        v["occupation"]["soc"] = format!("11-{:04}.00", 1000 + i).into();
        text.push_str(&serde_json::to_string(&v).unwrap());
        text.push('\n');
    }
    assert!(text.len() > 2 << 20);
    env.write("in/all.jsonl", text);
    let (code, report) = env.index_json(&["in", "--max-file-size", "1"]);
    assert_eq!(code, 2, "{report}");
    assert_eq!(report["occupations"], 300, "{report}");
    let rejected = report["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{report}");
    assert_eq!(rejected[0]["line"], 151, "{report}");
    assert!(
        rejected[0]["message"]
            .as_str()
            .unwrap()
            .contains("bytes, over the limit of 1048576 bytes"),
        "{report}"
    );
}

#[test]
fn strict_mode_commits_nothing() {
    let env = TestEnv::new();
    env.copy("frameworks/33-3051.04.json", "first/a.json");
    env.index_json(&["first"]);
    let before = stats(&env);
    env.copy("frameworks", "in/good");
    env.copy("malformed/truncated.json", "in/bad/truncated.json");
    let (code, report) = env.index_json(&["in", "--strict"]);
    assert_eq!(code, 2);
    assert_eq!(report["committed"], false);
    assert_eq!(report["statements_added"], 0);
    assert_eq!(stats(&env)["statements"], before["statements"]);
}

#[test]
fn duplicate_soc_keeps_the_later_export_and_warns() {
    let env = TestEnv::new();
    let real = std::fs::read_to_string(crate::util::fixture("frameworks/33-3051.04.json")).unwrap();
    let newer = real
        .replace("2026-05-15T12:41:19.160Z", "2026-06-01T00:00:00.000Z")
        .replace(
            "Immigration applications and travel documents",
            "Newer topic",
        );
    env.write("in/a_old.json", &real);
    env.write("in/b_new.json", &newer);
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["statements_added"], 40);
    let warning = report["warnings"][0].as_str().unwrap();
    assert!(
        warning.contains("a_old.json") && warning.contains("b_new.json"),
        "{warning}"
    );
    assert!(
        warning.contains("kept") && warning.find("b_new") < warning.find("a_old"),
        "{warning}"
    );
    let (_, hits) = env.json_lines(&["search", "\"newer topic\""]);
    assert_eq!(hits.len(), 1);
    let (code, _) = env.json_lines(&["search", "\"immigration applications\""]);
    assert_eq!(code, 1, "the older export's statement must be gone");
    assert_eq!(stats(&env)["statements"], 40);
}

#[test]
fn another_schema_is_refused_until_rebuild() {
    let env = TestEnv::new();
    let mut b = tantivy::schema::Schema::builder();
    b.add_text_field("body", tantivy::schema::TEXT);
    std::fs::create_dir_all(env.index()).unwrap();
    tantivy::Index::create_in_dir(env.index(), b.build()).unwrap();
    env.copy("frameworks", "in");
    refused_until_rebuild(&env, "index");
    assert_eq!(stats(&env)["occupations"], 3);
}

/// `command` on the index at `env` (over `in/`) fails with the message to rebuild it, and
/// `index in --rebuild` then rebuilds it.
fn refused_until_rebuild(env: &TestEnv, command: &str) {
    let idx = env.index();
    let args: Vec<&str> = match command {
        "index" => vec!["index", "in", "--index", idx.to_str().unwrap()],
        other => vec![other, "cargo", "--index", idx.to_str().unwrap()],
    };
    let out = env.run(&args);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another schema") && err.contains("--rebuild"),
        "{err}"
    );
    let (code, report) = env.index_json(&["in", "--rebuild"]);
    assert_eq!(code, 0, "{report}");
}

/// An index of our schema whose documents are of an older format (the topic indexed twice,
/// before `skillmap-index-2`) is refused like another schema, and `--rebuild` rebuilds it.
#[test]
fn an_older_index_format_is_refused_until_rebuild() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let (code, _) = env.index_json(&["in"]);
    assert_eq!(code, 0);
    let meta_path = env.index().join("meta.json");
    let mut meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&meta_path).unwrap()).unwrap();
    assert!(
        meta["payload"]
            .as_str()
            .unwrap()
            .starts_with("skillmap-index-3 vectors="),
        "{meta}"
    );
    meta["payload"] = serde_json::Value::Null;
    std::fs::write(&meta_path, serde_json::to_vec(&meta).unwrap()).unwrap();
    refused_until_rebuild(&env, "search");
    let (code, hits) = env.json_lines(&["search", "cargo"]);
    assert_eq!(code, 0);
    assert!(!hits.is_empty());
}

#[test]
fn a_second_writer_gets_a_lock_error() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    // Hold the writer lock from this process, as a running `skillmap index` would.
    let index = tantivy::Index::open_in_dir(env.index()).unwrap();
    let _writer: tantivy::IndexWriter = index.writer(15_000_000).unwrap();
    let out = env.run(&["index", "in", "--index", env.index().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("locked by another process"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// Writes `files` JSON Lines files of `per_file` exports each, made from the real export.
fn big_input(env: &TestEnv, files: usize, per_file: usize) {
    let real: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(crate::util::fixture("frameworks/33-3051.04.json")).unwrap(),
    )
    .unwrap();
    for f in 0..files {
        let mut text = String::new();
        for i in 0..per_file {
            let mut v = real.clone();
            v["occupation"]["soc"] = format!("{:02}-{:04}.{:02}", 11 + f % 80, i, f / 80).into();
            text.push_str(&serde_json::to_string(&v).unwrap());
            text.push('\n');
        }
        env.write(&format!("big/{f}.jsonl"), text);
    }
}

#[test]
fn sigkill_midway_leaves_the_last_commit_intact() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let before = stats(&env)["statements"].clone();
    big_input(&env, 40, 100); // 4,000 exports, 160,000 statements
    let idx = env.index();
    let mut killed_midway = 0;
    for (round, delay_ms) in [150u64, 400, 800].into_iter().enumerate() {
        let mut child = env
            .command(&[
                "index",
                "big",
                "--index",
                idx.to_str().unwrap(),
                "--quiet",
                "--threads",
                "2",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let running = child.try_wait().unwrap().is_none();
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        assert!(
            running,
            "round {round}: indexing finished before the kill; the input is too small"
        );
        killed_midway += 1;
        // The index opens, searches and holds exactly the last committed data.
        assert_eq!(stats(&env)["statements"], before, "round {round}");
        let (code, hits) = env.json_lines(&["search", "cargo"]);
        assert_eq!(code, 0);
        assert!(hits.iter().all(|h| {
            ["33-3051.04", "53-6051.00", "29-1141.00"].contains(&h["soc"].as_str().unwrap())
        }));
        // A stale lock must not block the next writer.
    }
    assert_eq!(killed_midway, 3);
    let started = Instant::now();
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 0, "the index is writable after kills: {report}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[test]
fn searches_during_an_index_run_see_old_or_new_data_never_a_mix() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let old = stats(&env)["statements"].as_u64().unwrap();
    big_input(&env, 10, 100); // 1,000 exports, 40,000 statements
    let idx = env.index();
    let mut child = env
        .command(&["index", "big", "--index", idx.to_str().unwrap(), "--quiet"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let engine = skillmap::index::engine::Engine::open(&idx).unwrap();
    let mut seen = std::collections::BTreeSet::new();
    let mut searches = 0;
    loop {
        let finished = child.try_wait().unwrap().is_some();
        engine.reader.reload().unwrap();
        let searcher = engine.searcher();
        seen.insert(searcher.num_docs());
        let mut req = skillmap::search::SearchRequest::new("inspect cargo");
        req.count = true;
        let r = skillmap::search::search(&engine, &req).expect("search during indexing");
        assert!(r.total.unwrap() > 0);
        searches += 1;
        if finished {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let new = old + 40_000;
    assert!(seen.iter().all(|n| *n == old || *n == new), "{seen:?}");
    assert!(seen.contains(&new), "{seen:?}");
    assert!(searches > 3, "{searches}");
}
