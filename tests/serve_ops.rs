//! Operating `skillmap serve`: request and event logs (text or JSON, filtered by `RUST_LOG`) and
//! Prometheus metrics, read from the real binary after real traffic.

use std::time::{Duration, Instant};

use crate::serve::Server;
use crate::util::TestEnv;

fn fixtures() -> TestEnv {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    let (code, report) = env.index_json(&["in"]);
    assert_eq!(code, 0, "{report}");
    env
}

/// The log lines of a stopped server (everything after its "listening on" line).
fn log_lines(server: Server) -> Vec<String> {
    let log = server.log.clone();
    assert!(server.stop().success());
    let text = log.lock().unwrap().clone();
    text.lines().map(str::to_string).collect()
}

#[test]
fn json_logs_are_one_object_per_line_with_a_line_per_request() {
    let env = fixtures();
    let server = Server::start_with(&env, &["--log-format", "json"]);
    assert_eq!(server.get("/api/search?q=inspect%20cargo").0, 200);
    assert_eq!(server.get("/api/occupations/33-3051.04").0, 200);
    assert_eq!(server.get("/api/occupations/12-3456.78").0, 404);
    assert_eq!(server.get("/nowhere").0, 404);
    let lines = log_lines(server);
    let events: Vec<serde_json::Value> = lines
        .iter()
        .filter(|l| *l != "skillmap: stopped")
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        events.iter().any(|e| e["message"] == "listening"),
        "{lines:?}"
    );
    assert!(
        events.iter().any(|e| e["message"] == "stopped"),
        "{lines:?}"
    );
    let requests: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["message"] == "request")
        .collect();
    assert_eq!(requests.len(), 4, "{lines:?}");
    for r in &requests {
        assert_eq!(r["level"], "INFO");
        assert!(
            r["timestamp"].is_string() && r["latency_ms"].is_number() && r["bytes"].is_number(),
            "{r}"
        );
    }
    // Routes are the patterns, not the values: one label per endpoint.
    assert_eq!(requests[0]["route"], "/api/search");
    assert_eq!(requests[0]["method"], "GET");
    assert_eq!(requests[0]["status"], 200);
    assert_eq!(requests[1]["route"], "/api/occupations/{soc}");
    assert_eq!(requests[2]["status"], 404);
    assert_eq!(requests[3]["route"], "unmatched");
    // RUST_LOG filters: without request lines, the events stay.
    let server = Server::start_full(
        &env,
        &env.index(),
        &["--log-format", "json"],
        &[("RUST_LOG", "info,skillmap::request=off")],
    );
    assert_eq!(server.get("/api/stats").0, 200);
    let lines = log_lines(server);
    assert!(
        lines.iter().all(|l| !l.contains("\"request\"")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("\"listening\"")),
        "{lines:?}"
    );
    // The text format is one line per request too.
    let server = Server::start(&env);
    assert_eq!(server.get("/api/stats").0, 200);
    let lines = log_lines(server);
    let line = lines
        .iter()
        .find(|l| l.contains("request"))
        .expect("a request line");
    assert!(
        line.contains("route=/api/stats") && line.contains("status=200"),
        "{line}"
    );
}

/// The value of a sample in Prometheus text, by its name and labels as written.
fn sample(metrics: &str, series: &str) -> Option<f64> {
    metrics
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn metrics_count_requests_latencies_busy_answers_and_rebuilds() {
    let env = fixtures();
    let server = Server::start_with(&env, &["--max-inflight", "1"]);
    for _ in 0..50 {
        assert_eq!(server.get("/api/search?q=inspect%20cargo").0, 200);
    }
    assert_eq!(server.get("/nowhere").0, 404);
    // Saturate the one permit with slow batches until one is refused.
    let line = serde_json::json!({"text": "inspect cargo and baggage for contraband ".repeat(40)})
        .to_string();
    let body: String = (0..600).map(|_| format!("{line}\n")).collect();
    let busy = std::thread::scope(|scope| {
        let posts: Vec<_> = (0..6)
            .map(|_| scope.spawn(|| server.post_batch(&body).status().as_u16()))
            .collect();
        posts
            .into_iter()
            .map(|p| p.join().unwrap())
            .filter(|s| *s == 503)
            .count()
    });
    assert!(busy > 0, "no batch was refused with one permit");
    // A new commit: the next map rebuilds the mapper.
    env.copy("frameworks/33-3051.04.json", "more/a.json");
    let (code, _) = env.index_json(&["more"]);
    assert_eq!(code, 0);
    let started = Instant::now();
    loop {
        let (_, m) = server.get("/metrics");
        if sample(&m, "skillmap_index_generation").is_some_and(|g| g >= 2.0) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the new commit was not seen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        server
            .post_json("/api/map", r#"{"text": "inspect cargo"}"#)
            .0,
        200
    );
    let (status, m) = server.get("/metrics");
    assert_eq!(status, 200);
    let search = r#"{route="/api/search",method="GET",status="200"}"#;
    assert_eq!(
        sample(&m, &format!("skillmap_http_requests_total{search}")),
        Some(50.0),
        "{m}"
    );
    assert_eq!(
        sample(
            &m,
            &format!("skillmap_http_request_duration_seconds_count{search}")
        ),
        Some(50.0)
    );
    assert!(m.contains(r#"skillmap_http_request_duration_seconds_bucket{route="/api/search",method="GET",status="200",le="0.1"}"#));
    assert_eq!(
        sample(
            &m,
            r#"skillmap_http_requests_total{route="unmatched",method="GET",status="404"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            r#"skillmap_http_requests_total{route="/api/map/batch",method="POST",status="503"}"#
        ),
        Some(busy as f64)
    );
    assert_eq!(
        sample(&m, "skillmap_busy_rejections_total"),
        Some(busy as f64)
    );
    // At least one rebuild (tantivy may reload more than once for one commit).
    assert!(
        sample(&m, "skillmap_mapper_rebuilds_total").is_some_and(|n| n >= 1.0),
        "{m}"
    );
    assert_eq!(sample(&m, "skillmap_index_occupations"), Some(3.0));
    assert_eq!(sample(&m, "skillmap_index_statements"), Some(71.0));
    assert!(sample(&m, "skillmap_process_resident_memory_bytes").is_some_and(|b| b > 1e6));
    // The scrape itself is the one piece of work in progress.
    assert_eq!(sample(&m, "skillmap_work_in_progress"), Some(1.0));
    assert_eq!(sample(&m, "skillmap_http_requests_in_flight"), Some(1.0));
    assert!(server.stop().success());
}

/// Polls `/metrics` until `ready` holds of it (at most 20 s).
fn metrics_until(server: &Server, what: &str, ready: impl Fn(&str) -> bool) -> String {
    let started = Instant::now();
    loop {
        let (_, m) = server.get("/metrics");
        if ready(&m) {
            return m;
        }
        assert!(started.elapsed() < Duration::from_secs(20), "{what}: {m}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn the_tables_of_each_commit_are_built_before_any_request_needs_them() {
    let env = fixtures();
    let server = Server::start(&env);
    // At start, with no search or map request sent.
    let warmed = |m: &str| {
        let tables = sample(m, "skillmap_tables_generation");
        tables.is_some() && tables == sample(m, "skillmap_index_generation")
    };
    let m = metrics_until(&server, "the tables were not built at start", warmed);
    let first = sample(&m, "skillmap_tables_generation").unwrap_or_default();
    // A new commit: built again, still without a request.
    env.copy("frameworks/33-3051.04.json", "more/a.json");
    let (code, _) = env.index_json(&["more"]);
    assert_eq!(code, 0);
    let m = metrics_until(
        &server,
        "the tables were not built for the new commit",
        |m| warmed(m) && sample(m, "skillmap_tables_generation").is_some_and(|g| g > first),
    );
    assert_eq!(
        sample(
            &m,
            "skillmap_http_requests_total{route=\"/api/search\",method=\"GET\",status=\"200\"}"
        ),
        None
    );
    // What they were built for answers as before.
    let (status, body) = server.get("/api/search?q=inspect%20cargo&by=occupation");
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("33-3051.04"), "{body}");
    assert!(server.stop().success());
}

#[test]
fn the_openapi_document_is_served_and_lists_every_route() {
    let env = fixtures();
    let server = Server::start(&env);
    let (status, body) = server.get("/api/openapi.json");
    assert_eq!(status, 200);
    let doc: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let routes = [
        ("/healthz", "get"),
        ("/api/search", "get"),
        ("/api/map", "post"),
        ("/api/map/batch", "post"),
        ("/api/occupations/{soc}", "get"),
        ("/api/stats", "get"),
        ("/metrics", "get"),
        ("/api/openapi.json", "get"),
    ];
    let paths = doc["paths"].as_object().unwrap();
    assert_eq!(
        paths.len(),
        routes.len(),
        "{:?}",
        paths.keys().collect::<Vec<_>>()
    );
    for (path, method) in routes {
        let op = &doc["paths"][path][method];
        assert!(op.is_object(), "{method} {path} missing");
        assert!(
            op["responses"]["200"].is_object(),
            "{method} {path}: no 200"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    // The documented request bodies and schemas exist.
    for schema in [
        "SearchResponse",
        "OccupationResponse",
        "MapRequest",
        "MapResult",
        "OccupationView",
        "Stats",
        "ErrorBody",
        "BatchOutput",
    ] {
        assert!(doc["components"]["schemas"][schema].is_object(), "{schema}");
    }
    assert!(server.stop().success());
}
