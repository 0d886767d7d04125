//! Snapshots (insta) of what people and programs read: the human output and the JSON shape of
//! every command, and every kind of HTTP answer, on the three fixture exports.
//!
//! Scores are rounded to three decimals and timings, sizes and temporary paths are redacted, so
//! a snapshot changes only when what a reader sees changes. Review a change with
//! `cargo insta review` (or accept it with `INSTA_UPDATE=always cargo test`).

use std::sync::OnceLock;

use crate::serve::{call_with, get, post};
use crate::util::TestEnv;

/// The fixture index, built with one thread so that the order of tied scores is fixed. Shared
/// by the read-only snapshots; a test that indexes again takes its own [`fresh_env`], since two
/// writers on one index would contend for its lock when tests run in parallel.
fn env() -> &'static TestEnv {
    static ENV: OnceLock<TestEnv> = OnceLock::new();
    ENV.get_or_init(fresh_env)
}

/// A fixture index of the caller's own.
fn fresh_env() -> TestEnv {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let (code, report) = env.index_json(&["in", "--threads", "1"]);
    assert_eq!(code, 0, "{report}");
    env
}

/// Rounds every float to three decimals and replaces the values that differ between runs.
fn stable(mut v: serde_json::Value) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Number(n) if n.is_f64() => {
                let x = n.as_f64().unwrap_or(0.0);
                *v = serde_json::json!((x * 1000.0).round() / 1000.0);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            serde_json::Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    match k.as_str() {
                        "took_ms" | "elapsed_secs" | "statements_per_sec" | "bytes" => {
                            *x = "[redacted]".into()
                        }
                        "index" if x.is_string() => *x = "[index]".into(),
                        _ => walk(x),
                    }
                }
            }
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// A command's stdout as text, and its exit code.
fn human(args: &[&str]) -> String {
    let e = env();
    let idx = e.index();
    let mut all = args.to_vec();
    all.extend(["--index", idx.to_str().unwrap()]);
    let out = e.run(&all);
    let code = out.status.code().unwrap_or(-1);
    format!("exit {code}\n{}", String::from_utf8(out.stdout).unwrap())
}

/// A command's JSON lines, stable, and its exit code.
fn json(args: &[&str]) -> serde_json::Value {
    let (code, lines) = env().json_lines(args);
    stable(serde_json::json!({ "exit": code, "lines": lines }))
}

/// Human text with the run's timings and sizes replaced.
fn filters() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(r"in \d+\.\d+s \(\d+ statements/s\)", "in [time]");
    s.add_filter(r"\d+ bytes", "[size] bytes");
    s.add_filter(r"into \S+ in", "into [index] in");
    s
}

#[test]
fn human_output_of_every_command() {
    filters().bind(|| {
        insta::assert_snapshot!(
            "search",
            human(&["search", "inspect cargo", "--limit", "3"])
        );
        insta::assert_snapshot!(
            "search_explain",
            human(&["search", "interview travelers", "--limit", "1", "--explain"])
        );
        insta::assert_snapshot!(
            "search_by_occupation",
            human(&["search", "inspect cargo", "--by-occupation"])
        );
        insta::assert_snapshot!("search_nothing", human(&["search", "zzzzqqq"]));
        insta::assert_snapshot!(
            "map_title",
            human(&["map", "--title", "customs officer", "--top", "2"])
        );
        insta::assert_snapshot!(
            "map_text",
            human(&[
                "map",
                "--text",
                "Inspect cargo at the port; interview travellers. Senior role, 8+ years.",
                "--top",
                "2"
            ])
        );
        insta::assert_snapshot!(
            "show",
            human(&["show", "53-6051.00", "--level", "emerging"])
        );
        insta::assert_snapshot!("stats", human(&["stats"]));
        let e = fresh_env();
        let out = e.run(&[
            "index",
            "in",
            "--index",
            e.index().to_str().unwrap(),
            "--threads",
            "1",
        ]);
        let report = String::from_utf8(out.stderr).unwrap();
        insta::assert_snapshot!(
            "index_report",
            format!("exit {:?}\n{report}", out.status.code())
        );
    });
}

#[test]
fn json_shape_of_every_command() {
    insta::assert_json_snapshot!(
        "search_json",
        json(&["search", "inspect cargo", "--limit", "2"])
    );
    insta::assert_json_snapshot!(
        "occupations_json",
        json(&["search", "inspect cargo", "--by-occupation", "--limit", "2"])
    );
    insta::assert_json_snapshot!(
        "map_json",
        json(&["map", "--title", "customs officer", "--top", "2"])
    );
    insta::assert_json_snapshot!(
        "show_json",
        json(&["show", "53-6051.00", "--level", "advanced"])
    );
    insta::assert_json_snapshot!("stats_json", json(&["stats"]));
    let e = env();
    let batch = e.write(
        "batch.jsonl",
        "{\"id\":\"a\",\"title\":\"customs officer\"}\n{\"id\":\"b\",\"text\":\"\"}\nnot json\n",
    );
    insta::assert_json_snapshot!(
        "map_batch_json",
        json(&["map", "--batch", batch.to_str().unwrap(), "--top", "1"])
    );
    let labelled = e.write(
        "labelled.jsonl",
        concat!(
            r#"{"id":"1","kind":"title","text":"","title":"customs officer","soc":"33-3051.04"}"#,
            "\n",
            r#"{"id":"2","kind":"posting","text":"Inspect cargo loads; measure dimensions.","soc":"53-6051.00","level":"proficient"}"#,
            "\n",
            r#"{"id":"3","text":"Nurse","soc":"not a code"}"#,
            "\n",
        ),
    );
    insta::assert_json_snapshot!("eval_json", json(&["eval", labelled.to_str().unwrap()]));
    let (code, report) = fresh_env().index_json(&["in", "--threads", "1"]);
    insta::assert_json_snapshot!(
        "index_json",
        stable(serde_json::json!({"exit": code, "report": report}))
    );
}

/// One HTTP answer, with its status and content type, through the in-process router.
async fn answer(req: axum::http::Request<axum::body::Body>) -> serde_json::Value {
    let (status, headers, body) = call_with(skillmap::serve::ServeConfig::default(), req).await;
    let kind = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body: serde_json::Value = if kind.starts_with("application/json") {
        serde_json::from_slice(&body).unwrap()
    } else {
        String::from_utf8_lossy(&body)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|_| l.into()))
            .collect()
    };
    stable(serde_json::json!({ "status": status.as_u16(), "content_type": kind, "body": body }))
}

#[tokio::test]
async fn every_kind_of_http_answer() {
    let cases = [
        ("search", get("/api/search?q=inspect%20cargo&limit=2")),
        (
            "search_occupations",
            get("/api/search?q=inspect%20cargo&by=occupation&limit=2"),
        ),
        ("search_bad_request", get("/api/search?q=x&job_zone=9")),
        (
            "map",
            post(
                "/api/map",
                "application/json",
                r#"{"title":"customs officer","top":2}"#,
            ),
        ),
        (
            "map_batch",
            post(
                "/api/map/batch",
                "application/x-ndjson",
                "{\"id\":\"a\",\"title\":\"customs officer\",\"top\":1}\nnot json\n",
            ),
        ),
        ("map_wrong_type", post("/api/map", "text/plain", "x")),
        ("occupation", get("/api/occupations/53-6051.00")),
        ("occupation_unknown", get("/api/occupations/53-6051.09")),
        ("stats", get("/api/stats")),
        ("health", get("/healthz")),
        ("not_found", get("/no/such/thing")),
    ];
    for (name, req) in cases {
        insta::assert_json_snapshot!(format!("http_{name}"), answer(req).await);
    }
}
