//! API keys: `/api/*` and `/metrics` require `Authorization: Bearer KEY` when keys are given; the page, its
//! files and `/healthz` stay open; the page asks for a key once and keeps it for the tab.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use skillmap::serve::ServeConfig;

use crate::serve::{Server, call_with};
use crate::util::TestEnv;

const KEY_A: &str = "alpha-key-0123456789";
const KEY_B: &str = "bravo-key-9876543210";

fn keyed() -> ServeConfig {
    ServeConfig {
        api_keys: vec![KEY_A.into(), KEY_B.into()],
        ..ServeConfig::default()
    }
}

/// Every protected route, as a request with an optional `Authorization` header.
fn protected(auth: Option<&str>) -> Vec<Request<Body>> {
    let with = |b: axum::http::request::Builder| match auth {
        Some(a) => b.header("authorization", a),
        None => b,
    };
    vec![
        with(Request::get("/api/search?q=cargo"))
            .body(Body::empty())
            .unwrap(),
        with(Request::get("/api/stats"))
            .body(Body::empty())
            .unwrap(),
        with(Request::get("/metrics")).body(Body::empty()).unwrap(),
        with(Request::get("/api/occupations/33-3051.04"))
            .body(Body::empty())
            .unwrap(),
        with(Request::post("/api/map").header("content-type", "application/json"))
            .body(Body::from(r#"{"text": "inspect cargo"}"#))
            .unwrap(),
        with(Request::post("/api/map/batch").header("content-type", "application/x-ndjson"))
            .body(Body::from("{\"text\": \"inspect cargo\"}\n"))
            .unwrap(),
    ]
}

#[tokio::test]
async fn api_routes_need_a_key_and_the_page_and_healthz_do_not() {
    for auth in [
        None,
        Some("Bearer wrong-key-0000000000".to_string()),
        Some(format!("Bearer {KEY_A}x")),
        Some(format!("Basic {KEY_A}")),
        Some(KEY_A.to_string()),
    ] {
        for req in protected(auth.as_deref()) {
            let uri = req.uri().to_string();
            let (s, h, b) = call_with(keyed(), req).await;
            assert_eq!(s, StatusCode::UNAUTHORIZED, "{uri} with {auth:?}");
            assert_eq!(h["www-authenticate"], "Bearer realm=\"skillmap\"");
            assert!(h.contains_key("content-security-policy"));
            let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
            assert_eq!(v["error"]["code"], "unauthorized", "{v}");
        }
    }
    for key in [KEY_A, KEY_B] {
        for req in protected(Some(&format!("Bearer {key}"))) {
            let uri = req.uri().to_string();
            let (s, _, b) = call_with(keyed(), req).await;
            assert_eq!(s, StatusCode::OK, "{uri}: {}", String::from_utf8_lossy(&b));
        }
    }
    for path in ["/healthz", "/", "/app.js", "/app.css"] {
        let (s, _, _) = call_with(keyed(), Request::get(path).body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::OK, "{path}");
    }
    // Without keys the API is open, as before.
    for req in protected(None) {
        let (s, _, _) = call_with(ServeConfig::default(), req).await;
        assert_eq!(s, StatusCode::OK);
    }
}

#[test]
fn keys_come_from_flags_or_the_environment_and_open_servers_are_warned_about() {
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    // Several keys in the environment, comma-separated.
    let keys = format!("{KEY_A},{KEY_B}");
    let server = Server::start_full(&env, &env.index(), &[], &[("SKILLMAP_API_KEY", &keys)]);
    let get = |auth: Option<&str>| {
        let mut req = Server::agent().get(&format!("{}/api/stats", server.base));
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        req.call().unwrap().status().as_u16()
    };
    assert_eq!(get(None), 401);
    assert_eq!(get(Some(&format!("Bearer {KEY_A}"))), 200);
    assert_eq!(get(Some(&format!("Bearer {KEY_B}"))), 200);
    assert_eq!(server.get("/healthz").0, 200);
    assert!(server.stop().success());
    // Beyond loopback without a key: a warning on stderr. With one: none.
    for (extra, warned) in [
        (&["--addr", "0.0.0.0:0"][..], true),
        (&["--addr", "0.0.0.0:0", "--api-key", KEY_A], false),
        (&[][..], false),
    ] {
        let server = Server::start_full(&env, &env.index(), extra, &[]);
        let log = server.log.clone();
        // The warning follows the "listening" line at once; give the reader a moment.
        std::thread::sleep(Duration::from_millis(300));
        let said = log.lock().unwrap().contains("no API key is set");
        assert_eq!(said, warned, "{extra:?}: {}", log.lock().unwrap());
        assert!(server.stop().success());
    }
    // Keys too short to be keys are refused.
    let out = env.run(&["serve", "--api-key", "short"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("16 to 256"));
}

#[test]
fn the_page_asks_for_a_key_and_uses_one_given_in_its_link() {
    let Some(browser) = crate::serve::chromium_or_skip() else {
        return;
    };
    let env = TestEnv::new();
    env.copy("frameworks", "in");
    env.index_json(&["in"]);
    let server = Server::start_with(&env, &["--api-key", KEY_A]);
    // Without a key: no results, and the key form is shown.
    let url = format!("{}/?q=inspect%20cargo", server.base);
    let dom = String::from_utf8_lossy(
        &crate::serve::headless(&browser, &env, &["--dump-dom"], &url).stdout,
    )
    .into_owned();
    assert!(dom.contains("<form id=\"key-form\" autocomplete"), "{dom}");
    assert!(!dom.contains("<li class=\"hit\">"), "{dom}");
    // With the key in the link's fragment: results, and the form stays hidden.
    let url = format!("{}/?q=inspect%20cargo#key={KEY_A}", server.base);
    let dom = String::from_utf8_lossy(
        &crate::serve::headless(&browser, &env, &["--dump-dom"], &url).stdout,
    )
    .into_owned();
    assert!(dom.contains("<li class=\"hit\">"), "{dom}");
    assert!(dom.contains("<form id=\"key-form\" hidden"), "{dom}");
    assert!(server.stop().success());
}
