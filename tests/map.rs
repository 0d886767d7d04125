//! `skillmap map` and `skillmap eval`: known postings, titles, seniority, hostile text, batches.

use std::io::Write;
use std::process::Stdio;

use crate::util::{TestEnv, bundled, fixture};

fn fixture_env() -> TestEnv {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let (code, _) = env.index_json(&["in"]);
    assert_eq!(code, 0);
    env
}

fn map_json(env: &TestEnv, args: &[&str]) -> (i32, serde_json::Value, String) {
    let idx = env.index();
    let mut all = vec!["map"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--index", idx.to_str().unwrap(), "--format", "json"]);
    let out = env.run(&all);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn socs(v: &serde_json::Value) -> Vec<String> {
    v["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["soc"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn known_postings_map_to_their_occupation() {
    let env = fixture_env();
    for (file, soc) in [
        ("customs.txt", "33-3051.04"),
        ("nurse.txt", "29-1141.00"),
        ("inspector.txt", "53-6051.00"),
    ] {
        let path = fixture(&format!("postings/{file}"));
        let (code, v, err) = map_json(&env, &[path.to_str().unwrap()]);
        assert_eq!(code, 0, "{file}: {err}");
        assert_eq!(socs(&v)[0], soc, "{file}: {v}");
        let top = &v["matches"][0];
        assert!(!top["evidence"].as_array().unwrap().is_empty(), "{file}");
        let c = top["confidence"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&c));
        let sum: f64 = ["emerging", "developing", "proficient", "advanced"]
            .iter()
            .map(|l| top["level_scores"][l].as_f64().unwrap())
            .sum();
        assert!((sum - 1.0).abs() < 1e-3, "{sum}");
    }
}

#[test]
fn job_titles_alone_find_their_occupations() {
    let env = bundled();
    for (title, soc, within) in [
        ("registered nurse", "29-1141.00", 1),
        ("forklift operator", "53-7051.00", 3),
        ("border patrol officer", "33-3051.04", 3),
        ("tax accountant", "13-2011.00", 3),
        ("truck driver", "53-3032.00", 3),
        // Job-board words and abbreviations (data/title_aliases.tsv).
        ("RN", "29-1141.00", 1),
        ("CNA", "31-1131.00", 1),
        ("Sales Associate", "41-2031.00", 1),
        ("Senior Software Engineer", "15-1252.00", 1),
        ("High School Teacher", "25-2031.00", 1),
        // The head noun decides: not the helpers, aides or supervisors of the occupation.
        ("Electrician", "47-2111.00", 1),
        ("Physical Therapist", "29-1123.00", 1),
        ("Firefighter", "33-2011.00", 1),
    ] {
        let (code, v, err) = map_json(env, &["--title", title]);
        assert_eq!(code, 0, "{title}: {err}");
        let found = socs(&v);
        assert!(
            found.iter().take(within).any(|s| s == soc),
            "{title}: {found:?}"
        );
    }
}

fn level_index(v: &serde_json::Value, soc: &str) -> Option<usize> {
    let m = v["matches"].as_array()?.iter().find(|m| m["soc"] == soc)?;
    ["emerging", "developing", "proficient", "advanced"]
        .iter()
        .position(|l| m["level"] == *l)
}

#[test]
fn seniority_moves_the_level_the_right_way() {
    let env = bundled();
    let base = std::fs::read_to_string(fixture("postings/customs.txt")).unwrap();
    let (_, plain, _) = map_json(env, &["--text", &base]);
    let soc = socs(&plain)[0].clone();
    let senior = format!("{base}\n10+ years, leads the department.");
    let junior = format!("{base}\nEntry-level trainee, works under close supervision.");
    let (_, up, _) = map_json(env, &["--text", &senior]);
    let (_, down, _) = map_json(env, &["--text", &junior]);
    let (p, u, d) = (
        level_index(&plain, &soc).unwrap(),
        level_index(&up, &soc).unwrap(),
        level_index(&down, &soc).unwrap(),
    );
    assert!(u >= p && p >= d, "junior {d} plain {p} senior {u}");
    assert_eq!(u, 3, "10+ years and leading the department is advanced");
    assert_eq!(d, 0, "entry-level trainee is emerging");
    let cues = up["seniority"].as_array().unwrap();
    assert!(
        cues.iter()
            .any(|c| c["phrase"].as_str().unwrap().contains("10+ years"))
    );
}

#[test]
fn hostile_text_gets_an_answer_or_a_clear_error() {
    let env = fixture_env();
    let (code, _, err) = map_json(&env, &["--text", "   "]);
    assert_eq!(code, 2);
    assert!(err.contains("nothing to map"), "{err}");
    for text in [
        "!!! ??? ... ###",
        "Krankenschwester mit Erfahrung in der Intensivpflege",
        "漢字 🚀 ñ",
    ] {
        let (code, _, err) = map_json(&env, &["--text", text]);
        assert!(code == 0 || code == 1, "{text}: {code} {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    // A megabyte of posting text: answered, and said to be truncated.
    let big = "Inspect cargo and baggage for contraband. ".repeat(25_000);
    let path = env.write("big.txt", &big);
    let (code, v, err) = map_json(&env, &[path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["truncated"], true);
    assert_eq!(socs(&v)[0], "33-3051.04");
    // Not UTF-8: the file and the byte are named.
    let bad = env.write("bad.txt", [b'o', b'k', b'\n', 0xFF]);
    let (code, _, err) = map_json(&env, &[bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.txt") && err.contains("invalid UTF-8"),
        "{err}"
    );
}

#[test]
fn batch_output_follows_input_order_and_reports_bad_lines() {
    let env = fixture_env();
    let mut input = String::new();
    let texts = [
        std::fs::read_to_string(fixture("postings/nurse.txt")).unwrap(),
        std::fs::read_to_string(fixture("postings/customs.txt")).unwrap(),
        std::fs::read_to_string(fixture("postings/inspector.txt")).unwrap(),
    ];
    for i in 0..30 {
        if i == 7 {
            input.push_str("{not json\n");
            continue;
        }
        if i == 11 {
            input.push_str("{\"id\": 11, \"text\": \"\"}\n");
            continue;
        }
        if i == 13 {
            input.push('\n');
            continue;
        }
        let line = serde_json::json!({"id": i, "text": texts[i % 3]});
        input.push_str(&line.to_string());
        input.push('\n');
    }
    let idx = env.index();
    let mut child = env
        .command(&[
            "map",
            "--batch",
            "-",
            "--index",
            idx.to_str().unwrap(),
            "--top",
            "2",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "bad lines make the exit status 2"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 29, "one output line per non-blank input line");
    let expected_socs = ["29-1141.00", "33-3051.04", "53-6051.00"];
    let mut k = 0;
    for i in 0..30 {
        if i == 13 {
            continue;
        }
        let l = &lines[k];
        k += 1;
        match i {
            7 => {
                assert_eq!(l["line"], 8);
                assert!(
                    l["error"].as_str().unwrap().contains("not a JSON object"),
                    "{l}"
                );
                assert!(l.get("id").is_none());
            }
            11 => {
                assert_eq!(l["id"], 11);
                assert_eq!(l["line"], 12);
                assert!(
                    l["error"].as_str().unwrap().contains("nothing to map"),
                    "{l}"
                );
            }
            _ => {
                assert_eq!(l["id"], i, "order");
                assert_eq!(l["matches"][0]["soc"], expected_socs[i % 3]);
                assert_eq!(l["matches"].as_array().unwrap().len(), 2);
            }
        }
    }
}

#[test]
fn eval_reports_accuracy_on_labelled_lines() {
    let env = fixture_env();
    let text = |f: &str| std::fs::read_to_string(fixture(&format!("postings/{f}"))).unwrap();
    let lines = [
        serde_json::json!({"id": "a", "text": text("customs.txt"), "soc": "33-3051.04"}),
        serde_json::json!({"id": "b", "text": format!("{}\nSenior role, 6 years of experience.", text("nurse.txt")), "soc": "29-1141.00", "level": "proficient"}),
        // Wrong on purpose: labelled with an occupation it is not.
        serde_json::json!({"id": "c", "text": text("inspector.txt"), "soc": "29-1141.00"}),
    ];
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let file = env.write("labelled.jsonl", body);
    let (code, v) = env.json_lines(&["eval", file.to_str().unwrap()]);
    assert_eq!(code, 0);
    let r = &v[0];
    assert_eq!(r["n"], 3);
    assert!(
        (r["onet_soc"]["top1"].as_f64().unwrap() - 2.0 / 3.0).abs() < 1e-9,
        "{r}"
    );
    assert_eq!(r["level_n"], 1);
    assert_eq!(r["level_exact"], 1.0);
    assert_eq!(r["level_confusion"][2][2], 1);
}

#[test]
fn benefits_and_equal_opportunity_text_do_not_steer_the_match() {
    let env = bundled();
    let posting = "Make espresso drinks and serve customers with a smile.\n\
        Benefits: medical, dental and vision insurance, 401k, tuition assistance.\n\
        We are an equal opportunity employer and do not discriminate against veterans.\n";
    let (code, v, err) = map_json(env, &["--text", posting, "--top", "3"]);
    assert_eq!(code, 0, "{err}");
    let found = socs(&v);
    assert!(found.iter().any(|s| s == "35-3023.01"), "{found:?}");
    assert!(
        !found
            .iter()
            .any(|s| s.starts_with("29-") || s.starts_with("31-9091")),
        "{found:?}"
    );
}
