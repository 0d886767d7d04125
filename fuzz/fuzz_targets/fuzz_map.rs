//! Fuzz target: any posting text and title are mapped or refused clearly, never a panic.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use skillmap::map::{MapRequest, Mapper};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    static MAPPER: OnceLock<Mapper> = OnceLock::new();
    let mapper = MAPPER.get_or_init(|| Mapper::new(common::engine()).unwrap());
    let text = String::from_utf8_lossy(data);
    let (body, title) = text.split_once('\u{1}').unwrap_or((&text, ""));
    let req = MapRequest {
        text: body.to_string(),
        title: (!title.is_empty()).then(|| title.to_string()),
        top: 1 + (data.len() % 5),
    };
    let _ = mapper.map(&req);
    let _ = skillmap::map::seniority::cues(&text, 1.0);
});
