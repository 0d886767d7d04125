//! `skillmap serve`: router tests in-process, end-to-end over a real socket, and a real browser.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use skillmap::index::engine::Engine;
use skillmap::serve::{AppState, ServeConfig, app};
use tower::ServiceExt;

use crate::util::{TestEnv, fixture};

/// One engine over the fixture index, shared by the in-process router tests.
pub(crate) fn engine() -> Arc<Engine> {
    static ENGINE: OnceLock<(TestEnv, Arc<Engine>)> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let env = TestEnv::new();
            env.copy("frameworks", "in");
            // One thread: a deterministic document order, so tied scores rank the same in
            // every run (the snapshots of the answers rely on it).
            let (code, _) = env.index_json(&["in", "--threads", "1"]);
            assert_eq!(code, 0);
            let e = Arc::new(Engine::open(&env.index()).unwrap());
            (env, e)
        })
        .1
        .clone()
}

async fn call(req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    call_with(ServeConfig::default(), req).await
}

/// One request through the router of a service with these limits: status, headers, body.
/// Every answer is checked against the OpenAPI document the service serves.
pub(crate) async fn call_with(
    config: ServeConfig,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let method = req.method().as_str().to_ascii_lowercase();
    let path = req.uri().path().to_string();
    let resp = app(AppState::new(engine(), config).unwrap())
        .oneshot(req)
        .await
        .unwrap();
    let (status, headers, body) = into_parts(resp).await;
    check_against_openapi(&method, &path, status, &headers, &body);
    (status, headers, body)
}

async fn into_parts(
    resp: axum::response::Response,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = axum::body::to_bytes(resp.into_body(), 64 << 20)
        .await
        .unwrap()
        .to_vec();
    (status, headers, body)
}

pub(crate) fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

pub(crate) fn post(uri: &str, content_type: &str, body: impl Into<Body>) -> Request<Body> {
    Request::post(uri)
        .header("content-type", content_type)
        .body(body.into())
        .unwrap()
}

fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)))
}

fn error_code(body: &[u8]) -> String {
    json(body)["error"]["code"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn search_endpoint_returns_the_cli_shapes() {
    let (status, _, body) = call(get("/api/search?q=inspect%20cargo&limit=3")).await;
    assert_eq!(status, StatusCode::OK);
    let v = json(&body);
    assert_eq!(v["hits"].as_array().unwrap().len(), 3);
    assert!(v["total"].as_u64().unwrap() >= 3);
    assert!(v["took_ms"].is_number());
    let (_, _, body) = call(get(
        "/api/search?q=inspect&level=advanced,proficient&soc=33",
    ))
    .await;
    for h in json(&body)["hits"].as_array().unwrap() {
        assert!(["advanced", "proficient"].contains(&h["level"].as_str().unwrap()));
        assert!(h["soc"].as_str().unwrap().starts_with("33"));
    }
    let (status, _, body) = call(get("/api/search?q=cargo%20inspection&by=occupation")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json(&body)["occupations"][0]["soc"], "33-3051.04");
    assert!(json(&body)["occupations"][0].get("explain").is_none());
    // With explain, each occupation's score is the sum of its parts.
    let (_, _, body) = call(get("/api/search?q=forklift&by=occupation&explain=true")).await;
    for o in json(&body)["occupations"].as_array().unwrap() {
        let x = &o["explain"];
        let sum: f64 = ["statements", "levels", "matches", "named"]
            .iter()
            .map(|k| x[k].as_f64().unwrap())
            .sum();
        let score = o["score"].as_f64().unwrap();
        assert!((sum - score).abs() <= 1e-3 * score.max(1.0), "{o}");
    }
}

#[tokio::test]
async fn bad_requests_get_json_errors() {
    for (uri, status, code) in [
        (
            "/api/search?q=x&limit=1000",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/search?q=x&limit=ten",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/search?q=x&level=expert",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/search?q=x&soc=3x",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/search?q=x&job_zone=9",
            StatusCode::BAD_REQUEST,
            "bad_request",
        ),
        (
            "/api/occupations/33-3051.05",
            StatusCode::NOT_FOUND,
            "not_found",
        ),
        ("/no/such/thing", StatusCode::NOT_FOUND, "not_found"),
    ] {
        let (s, _, body) = call(get(uri)).await;
        assert_eq!(s, status, "{uri}");
        assert_eq!(error_code(&body), code, "{uri}");
    }
    let long = format!("/api/search?q={}", "a".repeat(1001));
    assert_eq!(call(get(&long)).await.0, StatusCode::BAD_REQUEST);
    let (s, _, body) = call(post("/api/map", "text/plain", "{}")).await;
    assert_eq!(
        (s, error_code(&body).as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
    );
    let (s, _, body) = call(post("/api/map", "application/json", "{bad")).await;
    assert_eq!(
        (s, error_code(&body).as_str()),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let (s, _, body) = call(post("/api/map", "application/json", r#"{"text": "  "}"#)).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        json(&body)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("nothing to map")
    );
    let huge = serde_json::json!({"text": "x ".repeat(600_000)}).to_string();
    let (s, _, body) = call(post("/api/map", "application/json", huge)).await;
    assert_eq!(
        (s, error_code(&body).as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
}

#[tokio::test]
async fn map_occupation_stats_health_and_page() {
    let text = std::fs::read_to_string(fixture("postings/customs.txt")).unwrap();
    let body = serde_json::json!({"text": text, "top": 2}).to_string();
    let (s, _, out) = call(post("/api/map", "application/json", body)).await;
    assert_eq!(s, StatusCode::OK);
    let v = json(&out);
    assert_eq!(v["matches"][0]["soc"], "33-3051.04");
    assert_eq!(v["matches"].as_array().unwrap().len(), 2);
    let lines = "{\"id\": 1, \"text\": \"inspect cargo for contraband\"}\nnot json\n";
    let (s, headers, out) = call(post("/api/map/batch", "application/x-ndjson", lines)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/x-ndjson");
    let out: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| json(l.as_bytes()))
        .collect();
    assert_eq!(out[0]["id"], 1);
    assert_eq!(out[1]["line"], 2);
    let (s, _, out) = call(get("/api/occupations/33-3051.04")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(json(&out)["levels"].as_array().unwrap().len(), 4);
    let (s, _, out) = call(get("/api/stats")).await;
    assert_eq!(
        (s, json(&out)["occupations"].as_u64()),
        (StatusCode::OK, Some(3))
    );
    assert_eq!(call(get("/healthz")).await.0, StatusCode::OK);
    let (s, headers, page) = call(get("/")).await;
    assert_eq!(s, StatusCode::OK);
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    let page = String::from_utf8(page).unwrap();
    assert!(page.contains("<script src=\"/app.js\""));
    assert!(!page.contains("<script>"), "no inline script");
}

/// The document path that `path` falls under (`/api/occupations/{soc}` for a code).
fn document_path<'a>(doc: &'a serde_json::Value, path: &str) -> Option<&'a str> {
    let segments: Vec<&str> = path.split('/').collect();
    doc["paths"]
        .as_object()?
        .keys()
        .map(String::as_str)
        .find(|template| {
            let t: Vec<&str> = template.split('/').collect();
            t.len() == segments.len()
                && t.iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && t.ends_with('}')))
        })
}

/// Checks one answer against the OpenAPI document: the status must be documented for the
/// operation, with the content type the answer has, and a JSON body (each line of a JSON Lines
/// body) must validate against the documented schema. Paths that are not API operations (the
/// page, unknown paths, a method the path does not have) are not in the document.
pub(crate) fn check_against_openapi(
    method: &str,
    path: &str,
    status: StatusCode,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    let doc = DOC.get_or_init(|| serde_json::to_value(skillmap::serve::openapi()).unwrap());
    let Some(template) = document_path(doc, path) else {
        return;
    };
    let Some(operation) = doc["paths"][template].get(method) else {
        return;
    };
    let response = &operation["responses"][status.as_str()];
    assert!(
        response.is_object(),
        "{method} {path}: status {status} is not documented"
    );
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let Some(content) = response["content"].get(&content_type) else {
        panic!(
            "{method} {path} {status}: content type `{content_type}` is not documented: {response}"
        );
    };
    let Some(schema) = content.get("schema") else {
        return;
    };
    let root = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": doc["components"],
        "allOf": [schema],
    });
    let validator = jsonschema::validator_for(&root).unwrap();
    let text = String::from_utf8_lossy(body);
    let values: Vec<serde_json::Value> = match content_type.as_str() {
        "application/json" => vec![serde_json::from_slice(body).unwrap()],
        "application/x-ndjson" => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        _ => return,
    };
    for v in values {
        let errors: Vec<String> = validator.iter_errors(&v).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{method} {path} {status}: does not match the document: {errors:?}\n{v}"
        );
    }
}

/// The real binary serving on an ephemeral port.
pub(crate) struct Server {
    child: Child,
    pub(crate) base: String,
    /// Everything the server wrote on stderr after its first line.
    pub(crate) log: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Server {
    pub(crate) fn start(env: &TestEnv) -> Server {
        Self::start_with(env, &[])
    }

    /// A fresh index of the three fixture frameworks, served with `extra` flags.
    pub(crate) fn over_fixtures(extra: &[&str]) -> (TestEnv, Server) {
        let env = TestEnv::new();
        env.copy("frameworks", "in");
        let (code, report) = env.index_json(&["in"]);
        assert_eq!(code, 0, "{report}");
        let server = Server::start_with(&env, extra);
        (env, server)
    }

    pub(crate) fn start_with(env: &TestEnv, extra: &[&str]) -> Server {
        Self::start_on(env, &env.index(), extra)
    }

    pub(crate) fn start_on(env: &TestEnv, idx: &std::path::Path, extra: &[&str]) -> Server {
        Self::start_full(env, idx, extra, &[])
    }

    /// Serves `idx` with `extra` flags (on loopback unless they give `--addr`) and
    /// `vars` in the environment.
    pub(crate) fn start_full(
        env: &TestEnv,
        idx: &std::path::Path,
        extra: &[&str],
        vars: &[(&str, &str)],
    ) -> Server {
        let mut args = vec!["serve", "--index", idx.to_str().unwrap()];
        if !extra.contains(&"--addr") {
            args.extend_from_slice(&["--addr", "127.0.0.1:0"]);
        }
        args.extend_from_slice(extra);
        let mut command = env.command(&args);
        command.envs(vars.iter().copied());
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        stderr.read_line(&mut line).unwrap();
        let base = line
            .trim()
            .strip_prefix("skillmap: listening on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line}"))
            .to_string();
        // Keep draining stderr so the server never blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = log.clone();
        std::thread::spawn(move || {
            for line in stderr.lines().map_while(Result::ok) {
                let mut l = sink.lock().unwrap();
                l.push_str(&line);
                l.push('\n');
            }
        });
        Server { child, base, log }
    }

    pub(crate) fn agent() -> ureq::Agent {
        ureq::Agent::new_with_config(
            ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(20)))
                .build(),
        )
    }

    /// A GET over the socket; its answer is checked against the OpenAPI document too.
    pub(crate) fn get(&self, path: &str) -> (u16, String) {
        let mut r = Self::agent()
            .get(&format!("{}{path}", self.base))
            .call()
            .unwrap();
        let (status, headers) = (r.status(), r.headers().clone());
        let body = r.body_mut().read_to_string().unwrap();
        let route = path.split('?').next().unwrap_or(path);
        check_against_openapi("get", route, status, &headers, body.as_bytes());
        (status.as_u16(), body)
    }

    pub(crate) fn post_json(&self, path: &str, body: &str) -> (u16, String) {
        self.try_post_json(path, body).unwrap()
    }

    /// `Err` when the server closed the connection before the body was sent (it may answer
    /// 413 and hang up as soon as the declared length is over the limit).
    fn try_post_json(&self, path: &str, body: &str) -> Result<(u16, String), ureq::Error> {
        let mut r = Self::agent()
            .post(&format!("{}{path}", self.base))
            .header("content-type", "application/json")
            .send(body)?;
        let (status, headers) = (r.status(), r.headers().clone());
        let text = r.body_mut().read_to_string()?;
        check_against_openapi("post", path, status, &headers, text.as_bytes());
        Ok((status.as_u16(), text))
    }

    /// A JSON Lines batch posted to `/api/map/batch`: the response, whatever its status.
    pub(crate) fn post_batch(&self, body: &str) -> ureq::http::Response<ureq::Body> {
        Self::agent()
            .post(&format!("{}/api/map/batch", self.base))
            .header("content-type", "application/x-ndjson")
            .send(body)
            .unwrap()
    }

    /// SIGTERM, then the exit status.
    pub(crate) fn stop(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let started = Instant::now();
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "server did not stop"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn end_to_end_over_a_real_socket_with_reindexing() {
    let env = TestEnv::new();
    env.copy("frameworks/33-3051.04.json", "in/a.json");
    env.index_json(&["in"]);
    let server = Server::start(&env);
    let (s, body) = server.get("/api/search?q=cargo&limit=5");
    assert_eq!(s, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["soc"] == "33-3051.04")
    );
    let (s, body) = server.post_json("/api/map", r#"{"title": "customs officer", "top": 1}"#);
    assert_eq!(s, 200, "{body}");
    let (s, _) = server.post_json("/api/map", "{");
    assert_eq!(s, 400);
    // Index another occupation while the server runs: it shows up after the commit.
    env.copy("frameworks/53-6051.00.json", "more/b.json");
    let (code, _) = env.index_json(&["more"]);
    assert_eq!(code, 0);
    let started = Instant::now();
    loop {
        let (_, body) = server.get("/api/search?q=cargo&soc=53&limit=1");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["total"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "new commit not visible: {body}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The mapper follows the new commit too.
    let (_, body) = server.post_json(
        "/api/map",
        r#"{"title": "transportation inspector", "top": 1}"#,
    );
    assert!(body.contains("53-6051.00"), "{body}");
    let status = server.stop();
    assert!(status.success(), "graceful shutdown on SIGTERM: {status:?}");
}

/// The browser for the page tests: `None` (skip, with a message) only outside CI, where
/// `.ci/run` installs Chromium and the tests must run.
pub(crate) fn chromium_or_skip() -> Option<String> {
    let found = chromium();
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "Chromium is required in CI"
        );
        eprintln!("skipped: no Chromium on this machine");
    }
    found
}

pub(crate) fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            std::process::Command::new(c)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(str::to_string)
}

pub(crate) fn headless(
    browser: &str,
    env: &TestEnv,
    extra: &[&str],
    url: &str,
) -> std::process::Output {
    let profile = env.path("chromium-profile");
    let mut args: Vec<String> = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--virtual-time-budget=10000",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    args.extend(extra.iter().map(|s| s.to_string()));
    args.push(url.to_string());
    std::process::Command::new(browser)
        .args(&args)
        .output()
        .unwrap()
}

#[test]
fn the_page_renders_results_in_a_real_browser() {
    let Some(browser) = chromium_or_skip() else {
        return;
    };
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    // An export whose statement carries markup: it must render as text.
    let real = std::fs::read_to_string(fixture("frameworks/33-3051.04.json")).unwrap();
    let hostile = real.replace("33-3051.04", "33-3051.09").replace(
        "Immigration applications and travel documents — review",
        "<script>window.pwned=1</script><img src=x onerror=alert(1)> cargo — review",
    );
    env.write("in/hostile.json", hostile);
    env.index_json(&["in"]);
    let server = Server::start(&env);
    let url = format!("{}/?q=inspect%20cargo", server.base);
    let out = headless(&browser, &env, &["--dump-dom"], &url);
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<li class=\"hit\">"),
        "no results rendered: {dom}"
    );
    assert!(dom.contains("<mark>"), "no highlights: {dom}");
    assert!(dom.contains("statement(s)"), "no summary: {dom}");
    let url = format!("{}/?q=window%20pwned%20cargo", server.base);
    let dom = String::from_utf8_lossy(&headless(&browser, &env, &["--dump-dom"], &url).stdout)
        .into_owned();
    assert!(
        dom.contains("&lt;script&gt;") && dom.contains("&lt;/script&gt;"),
        "markup not shown as text: {dom}"
    );
    assert!(
        dom.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "markup not shown as text: {dom}"
    );
    assert!(
        !dom.contains("<script>window.pwned"),
        "markup was injected: {dom}"
    );
    assert!(
        !dom.contains("<img src=\"x\""),
        "markup was injected: {dom}"
    );
    // A screenshot as a test artifact.
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("serve-page.png");
    let url = format!(
        "{}/?q=inspect%20cargo&map=Customs%20officer%3A%20inspect%20cargo%20and%20passports.%205%2B%20years",
        server.base
    );
    let out = headless(
        &browser,
        &env,
        &[
            "--window-size=1200,1400",
            &format!("--screenshot={}", shot.display()),
        ],
        &url,
    );
    assert!(
        shot.is_file(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::metadata(&shot).unwrap().len() > 10_000);
    assert!(server.stop().success());
}

#[test]
fn abuse_leaves_the_server_answering_without_panics_or_5xx() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let (_env, server) = Server::over_fixtures(&[]);
    let host = server.base.trim_start_matches("http://").to_string();
    let deadline = Instant::now() + Duration::from_secs(60);
    // Slow senders: connections that send half a request line and wait.
    let slow: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut s = TcpStream::connect(&host).unwrap();
            s.write_all(b"GET /api/search?q=car").unwrap();
            s
        })
        .collect();
    let statuses = std::sync::Mutex::new(std::collections::BTreeMap::<u16, usize>::new());
    std::thread::scope(|scope| {
        for t in 0..8 {
            let server = &server;
            let statuses = &statuses;
            scope.spawn(move || {
                for i in 0..40 {
                    assert!(Instant::now() < deadline, "abuse run took too long");
                    let (s, _) = match (t + i) % 5 {
                        0 => server.get("/api/search?q=inspect%20cargo&limit=10"),
                        1 => server
                            .try_post_json("/api/map", "{\"text\": [1, 2")
                            .unwrap_or_else(|e| panic!("malformed JSON post: {e}")),
                        // The server may answer 413 and hang up before the body is sent.
                        2 => server
                            .try_post_json(
                                "/api/map",
                                &format!("{{\"text\": \"{}\"}}", "a".repeat(2 << 20)),
                            )
                            .unwrap_or((413, String::new())),
                        3 => server.get(&format!("/api/search?q={}", "%22(".repeat(400))),
                        _ => server.post_json(
                            "/api/map",
                            "{\"text\": \"inspect cargo for contraband\", \"top\": 3}",
                        ),
                    };
                    *statuses.lock().unwrap().entry(s).or_insert(0) += 1;
                }
            });
        }
    });
    drop(slow);
    let statuses = statuses.into_inner().unwrap();
    let total: usize = statuses.values().sum();
    assert_eq!(total, 320);
    for (status, n) in &statuses {
        assert!(
            [200, 400, 413, 503].contains(status),
            "unexpected status {status} ({n} times): {statuses:?}"
        );
    }
    assert!(
        statuses.get(&200).copied().unwrap_or(0) >= 64,
        "{statuses:?}"
    );
    // Still answering, and a raw malformed request gets a 4xx, not a dropped server.
    let (s, _) = server.get("/healthz");
    assert_eq!(s, 200);
    let mut raw = TcpStream::connect(&host).unwrap();
    raw.write_all(b"BLAH / HTTP/9.9\r\n\r\n").unwrap();
    let mut buf = Vec::new();
    let _ = raw.read_to_end(&mut buf);
    let log = server.log.clone();
    let status = server.stop();
    assert!(status.success(), "{status:?}");
    let log = log.lock().unwrap();
    assert!(!log.contains("panicked"), "{log}");
}

#[test]
fn slow_clients_are_cut_off_and_oversized_heads_refused() {
    use std::io::{Read, Write};
    use std::net::TcpStream;
    let (_env, server) = Server::over_fixtures(&["--header-timeout", "1"]);
    let host = server.base.trim_start_matches("http://").to_string();
    // A client that sends half a request line and stalls is disconnected after the timeout.
    let mut slow = TcpStream::connect(&host).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let n = slow.read_to_end(&mut buf);
    assert!(n.is_ok(), "the server closed the connection: {n:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(8),
        "{waited:?}"
    );
    // A 200 KB header is refused, and the server goes on answering.
    let mut big = TcpStream::connect(&host).unwrap();
    big.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let head = format!(
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(200_000)
    );
    let _ = big.write_all(head.as_bytes());
    let mut reply = Vec::new();
    let _ = big.read_to_end(&mut reply);
    let reply = String::from_utf8_lossy(&reply);
    assert!(
        reply.is_empty() || reply.starts_with("HTTP/1.1 431"),
        "{reply}"
    );
    assert_eq!(server.get("/healthz").0, 200);
    // Batch bodies must say they are JSON Lines.
    let (s, body) = server.post_json("/api/map/batch", "{\"text\": \"x\"}\n");
    assert_eq!(s, 415, "{body}");
    assert!(server.stop().success());
}

#[test]
fn saturated_server_answers_503_instead_of_queueing() {
    let (_env, server) = Server::over_fixtures(&["--max-inflight", "1"]);
    // Slow requests: a batch of 300 postings each.
    let line = serde_json::json!({"text": "Inspect cargo and baggage for contraband; detain violators; write reports."}).to_string();
    let body: String = (0..300).map(|_| format!("{line}\n")).collect();
    let statuses = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..8 {
            let (server, body, statuses) = (&server, &body, &statuses);
            scope.spawn(move || {
                let mut r = server.post_batch(body);
                let text = r.body_mut().read_to_string().unwrap();
                statuses.lock().unwrap().push((
                    r.status().as_u16(),
                    r.headers().get("retry-after").is_some(),
                    text,
                ));
            });
        }
    });
    let statuses = statuses.into_inner().unwrap();
    assert!(
        statuses.iter().any(|(s, _, _)| *s == 200),
        "{:?}",
        statuses.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    let busy: Vec<_> = statuses.iter().filter(|(s, _, _)| *s == 503).collect();
    assert!(
        !busy.is_empty(),
        "no 503 with one permit and eight slow requests"
    );
    for (_, retry_after, text) in &busy {
        assert!(*retry_after);
        assert!(text.contains("\"busy\""), "{text}");
    }
    assert!(statuses.iter().all(|(s, _, _)| *s == 200 || *s == 503));
    assert_eq!(server.get("/healthz").0, 200);
    assert!(server.stop().success());
}
