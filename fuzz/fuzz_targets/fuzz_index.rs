//! Fuzz target: an index whose files have bytes changed is opened, counted, searched, shown,
//! mapped and exported; every outcome is a result or an error, never an uncaught panic, because
//! `engine::guarded` is the boundary the commands use.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use skillmap::index::engine::{Engine, guarded};
use skillmap::map::{MapRequest, Mapper};
use skillmap::search::{SearchRequest, search, search_occupations};

#[path = "common.rs"]
mod common;

/// Everything a user can do with an index, once.
fn read_all(dir: &Path) -> skillmap::Result<()> {
    let engine = Engine::open(dir)?;
    skillmap::index::stats::stats(&engine)?;
    let mut req = SearchRequest::new("inspect cargo");
    req.count = true;
    search(&engine, &req)?;
    search_occupations(&engine, &req)?;
    skillmap::index::show::show(&engine, "33-3051.04", &[])?;
    let mapper = Mapper::new(&engine)?;
    mapper.map(&MapRequest {
        text: "inspect cargo and baggage for contraband".into(),
        title: Some("customs officer".into()),
        top: 3,
    })?;
    skillmap::index::export::write_ndjson(&engine, &mut std::io::sink(), None)?;
    Ok(())
}

fuzz_target!(|data: &[u8]| {
    static HOOK: std::sync::Once = std::sync::Once::new();
    // libFuzzer's hook aborts at the first panic, before the boundary could catch it; ours
    // keeps the message. A panic that escapes the boundary still reaches libFuzzer as a crash.
    HOOK.call_once(|| {
        // Drop libFuzzer's hook first: the quiet hook would call it on, and it aborts.
        drop(std::panic::take_hook());
        skillmap::panics::install_quiet_hook();
    });
    let base = common::index_dir();
    let mut files: Vec<_> = std::fs::read_dir(base)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    let copy = tempfile::tempdir().unwrap();
    let mut contents: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    // Each 4 bytes of input: which file, where (two bytes), and the new byte.
    for edit in data.chunks_exact(4) {
        let file = edit[0] as usize % files.len();
        let bytes = &mut contents[file];
        if bytes.is_empty() {
            continue;
        }
        let at = u16::from_le_bytes([edit[1], edit[2]]) as usize % bytes.len();
        bytes[at] = edit[3];
    }
    for (f, bytes) in files.iter().zip(&contents) {
        std::fs::write(copy.path().join(f.file_name().unwrap()), bytes).unwrap();
    }
    let _ = guarded(copy.path(), || read_all(copy.path()));
});
