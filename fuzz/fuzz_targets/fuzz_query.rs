//! Fuzz target: any query text and filters give results or a clear error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use skillmap::search::{SearchRequest, search, search_occupations};

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (query, filter) = text.split_once('\u{1}').unwrap_or((&text, ""));
    let mut req = SearchRequest::new(query);
    req.count = true;
    if !filter.is_empty() {
        req.soc = vec![filter.to_string()];
    }
    req.offset = data.first().copied().unwrap_or(0) as usize;
    let _ = search(common::engine(), &req);
    let _ = search_occupations(common::engine(), &req);
});
