//! Shared bench helpers: the bundled collection and the fixed skill query list.

#![allow(dead_code)]

use std::path::PathBuf;

/// Skill queries as users type them (`benches/queries.txt`, shared with `benches/compare.py`):
/// single words, pairs, a phrase, punctuation, a typo.
pub fn queries() -> Vec<&'static str> {
    include_str!("queries.txt")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect()
}

/// The bundled collection folder.
pub fn bundled_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}
