//! `skillmap serve` against hostile clients: idle and half-open connections, a flood of
//! connections, costly requests, batches that outlive their deadline, and error bodies that
//! keep the documented shape. In-process router tests first, then the real binary on a socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use skillmap::serve::ServeConfig;

use crate::serve::{Server, call_with};

fn batch_request(body: impl Into<Body>) -> Request<Body> {
    Request::post("/api/map/batch")
        .header("content-type", "application/x-ndjson")
        .body(body.into())
        .unwrap()
}

/// The error body's code, checking the JSON shape and the security headers on the way.
fn error_code(status: StatusCode, headers: &axum::http::HeaderMap, body: &[u8]) -> String {
    assert_eq!(
        headers["content-type"],
        "application/json",
        "{status}: {}",
        String::from_utf8_lossy(body)
    );
    assert!(headers.contains_key("content-security-policy"), "{status}");
    assert_eq!(headers["x-content-type-options"], "nosniff", "{status}");
    let v: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert!(v["error"]["message"].is_string(), "{v}");
    v["error"]["code"].as_str().unwrap().to_string()
}

/// `n` lines of one posting each.
fn postings(n: usize, words: usize) -> String {
    let text = "inspect cargo and baggage for contraband and write reports on violations "
        .repeat(words / 11 + 1);
    let line = serde_json::json!({ "text": text }).to_string();
    (0..n).map(|_| format!("{line}\n")).collect()
}

#[tokio::test]
async fn every_error_has_the_json_body_and_the_security_headers() {
    let config = ServeConfig::default;
    // 405: a route that exists, with another method.
    let (s, h, b) = call_with(
        config(),
        Request::post("/api/search").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(error_code(s, &h, &b), "method_not_allowed");
    // 408: a batch that cannot finish in a millisecond.
    let slow = ServeConfig {
        timeout: Duration::from_millis(1),
        ..config()
    };
    let (s, h, b) = call_with(slow, batch_request(postings(500, 40))).await;
    assert_eq!(s, StatusCode::REQUEST_TIMEOUT);
    assert_eq!(error_code(s, &h, &b), "timeout");
    // 413: a body over the limit, and a batch of too many lines.
    let small = ServeConfig {
        max_body: 1_000,
        ..config()
    };
    let (s, h, b) = call_with(small, batch_request(postings(50, 10))).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(s, &h, &b), "too_large");
    let few = ServeConfig {
        max_batch_lines: 10,
        ..config()
    };
    let (s, h, b) = call_with(few, batch_request(postings(11, 3))).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(error_code(s, &h, &b), "too_large");
    assert!(String::from_utf8_lossy(&b).contains("11 lines"));
    // 400 at once for a code of the wrong shape, however long.
    let started = Instant::now();
    let long = format!("/api/occupations/{}", "1".repeat(30_000));
    let (s, h, b) = call_with(config(), Request::get(long).body(Body::empty()).unwrap()).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(error_code(s, &h, &b), "bad_request");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn a_batch_line_that_is_not_utf8_gets_its_own_error_line() {
    let body = crate::util::batch_with_a_bad_utf8_line();
    let (s, h, b) = call_with(ServeConfig::default(), batch_request(body)).await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&b));
    assert_eq!(h["content-type"], "application/x-ndjson");
    crate::util::check_bad_utf8_batch_answer(&b);
}

/// Waits until the server closes `s` (reads to the end), returning how long that took.
fn time_to_close(mut s: TcpStream) -> Duration {
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let started = Instant::now();
    let mut sink = Vec::new();
    let r = s.read_to_end(&mut sink);
    assert!(r.is_ok(), "not closed within 20 s: {r:?}");
    started.elapsed()
}

const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[test]
fn silent_one_byte_and_preface_only_connections_are_closed_at_the_deadline() {
    let (_env, server) = Server::over_fixtures(&["--header-timeout", "1"]);
    let host = server.base.trim_start_matches("http://").to_string();
    let open = |bytes: &[u8]| {
        let mut s = TcpStream::connect(&host).unwrap();
        s.write_all(bytes).unwrap();
        s
    };
    let conns = vec![open(b""), open(b"G"), open(H2_PREFACE)];
    let waits: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = conns
            .into_iter()
            .map(|c| scope.spawn(move || time_to_close(c)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for w in &waits {
        assert!(
            *w >= Duration::from_millis(700) && *w < Duration::from_secs(6),
            "{waits:?}"
        );
    }
    // A keep-alive connection that goes quiet after a request is closed too.
    let mut ka = open(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut first = [0u8; 12];
    ka.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    let w = time_to_close(ka);
    assert!(w < Duration::from_secs(6), "{w:?}");
    // Far more header fields than hyper's default of 100 are fine below the 64 KiB head limit.
    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n");
    for i in 0..300 {
        many.push_str(&format!("X-Field-{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let mut s = open(many.as_bytes());
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(server.stop().success());
}

#[test]
fn connections_over_the_cap_get_a_503_and_the_server_recovers() {
    let (_env, server) =
        Server::over_fixtures(&["--header-timeout", "2", "--max-connections", "5"]);
    let host = server.base.trim_start_matches("http://").to_string();
    let held: Vec<TcpStream> = (0..5).map(|_| TcpStream::connect(&host).unwrap()).collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut over = TcpStream::connect(&host).unwrap();
    over.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut reply = String::new();
    over.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 503"), "{reply}");
    assert!(reply.contains("retry-after: 1"), "{reply}");
    let body = reply.split("\r\n\r\n").nth(1).unwrap();
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    assert_eq!(v["error"]["code"], "busy");
    // The held connections time out, and the server takes new ones again.
    for c in held {
        time_to_close(c);
    }
    assert_eq!(server.get("/healthz").0, 200);
    assert!(server.stop().success());
}

#[test]
fn a_batch_past_its_deadline_stops_working_and_frees_its_permit() {
    let (_env, server) = Server::over_fixtures(&[
        "--timeout",
        "1",
        "--max-inflight",
        "1",
        "--max-batch-lines",
        "100000",
        "--max-body",
        "100000000",
    ]);
    // Far more work than a second: 20,000 postings of 80 words.
    let body = postings(20_000, 80);
    let started = Instant::now();
    let mut r = server.post_batch(&body);
    let text = r.body_mut().read_to_string().unwrap();
    assert_eq!(r.status().as_u16(), 408, "{text}");
    assert!(text.contains("\"timeout\""), "{text}");
    assert!(started.elapsed() < Duration::from_secs(10));
    // The work stopped between lines: the one permit is free again within moments, where it
    // used to stay taken (503) for as long as the whole batch would have run.
    let freed = Instant::now();
    loop {
        let (status, _) = server.get("/api/stats");
        if status == 200 {
            break;
        }
        assert_eq!(status, 503);
        assert!(
            freed.elapsed() < Duration::from_secs(3),
            "the batch went on working after its 408"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(server.stop().success());
}

/// The abuse run of issue 16: hundreds of idle connections of three kinds plus costly requests
/// (30 KB codes, batches at the line cap, oversized batches, long queries) from several threads,
/// while a probe asks `/healthz` every 50 ms on its own connection.
#[test]
fn healthz_answers_within_100ms_under_idle_floods_and_costly_requests() {
    // A request deadline well inside the client's 20 s: a debug build under a parallel test run
    // can take longer than that over a batch at the line cap, and the service's answer to that
    // is its own 408, which this test then sees instead of a client-side time-out.
    let (_env, server) = Server::over_fixtures(&["--timeout", "8"]);
    let host = server.base.trim_start_matches("http://").to_string();
    let idle: Vec<TcpStream> = (0..300)
        .map(|i| {
            let mut s = TcpStream::connect(&host).unwrap();
            match i % 3 {
                0 => {}
                1 => s.write_all(b"G").unwrap(),
                _ => s.write_all(H2_PREFACE).unwrap(),
            }
            s
        })
        .collect();
    let stop = std::sync::atomic::AtomicBool::new(false);
    let batch = postings(1_000, 20);
    let too_many = postings(1_001, 1);
    let long_code = format!("/api/occupations/{}", "9".repeat(30_000));
    let (latencies, statuses) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..6)
            .map(|t| {
                let (server, stop, batch, too_many, long_code) =
                    (&server, &stop, &batch, &too_many, &long_code);
                scope.spawn(move || {
                    let mut seen = Vec::new();
                    let mut i = t;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        let post = |body: &str| {
                            let mut r = server.post_batch(body);
                            let _ = r.body_mut().read_to_string();
                            r.status().as_u16()
                        };
                        let status = match i % 4 {
                            0 => server.get(long_code).0,
                            1 => post(batch),
                            2 => post(too_many),
                            _ => {
                                server
                                    .get(&format!("/api/search?q={}", "cargo%20".repeat(120)))
                                    .0
                            }
                        };
                        seen.push(status);
                        i += 1;
                    }
                    seen
                })
            })
            .collect();
        let probe = scope.spawn(|| {
            let agent = Server::agent();
            let mut latencies = Vec::new();
            let until = Instant::now() + Duration::from_secs(8);
            while Instant::now() < until {
                let t = Instant::now();
                let r = agent
                    .get(&format!("{}/healthz", server.base))
                    .call()
                    .unwrap();
                assert_eq!(r.status().as_u16(), 200);
                latencies.push(t.elapsed());
                std::thread::sleep(Duration::from_millis(50));
            }
            latencies
        });
        let latencies = probe.join().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let statuses: Vec<u16> = workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect();
        (latencies, statuses)
    });
    drop(idle);
    let worst = latencies.iter().max().unwrap();
    eprintln!(
        "healthz under abuse: {} probes, slowest {worst:?}, {} costly requests",
        latencies.len(),
        statuses.len()
    );
    assert!(latencies.len() > 50, "{} probes", latencies.len());
    // Every probe but one within 100 ms, and none near a second: the test suite runs beside
    // this test on the same two cores, so one probe can lose the processor for a scheduler
    // slice (a clean-clone CI run saw 107 ms once, among probes of 14-24 ms); a health check
    // queued behind the costly requests would be slow for many probes.
    let slow = latencies
        .iter()
        .filter(|l| **l >= Duration::from_millis(100))
        .count();
    assert!(
        slow <= 1 && *worst < Duration::from_secs(1),
        "{slow} of {} probes of /healthz took 100 ms or more, the slowest {worst:?}",
        latencies.len()
    );
    // Costly requests were answered, each with a status of the documented set.
    assert!(statuses.len() >= 8, "{statuses:?}");
    for s in &statuses {
        assert!([200, 400, 408, 413, 503].contains(s), "{statuses:?}");
    }
    assert!(
        statuses.contains(&400) && statuses.contains(&413),
        "{statuses:?}"
    );
    let log = server.log.clone();
    assert!(server.stop().success());
    assert!(!log.lock().unwrap().contains("panicked"));
}
