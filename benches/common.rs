//! Shared bench helpers: the bundled collection and the fixed skill query list.

#![allow(dead_code)]

use std::path::PathBuf;

/// Skill queries as users type them: single words, pairs, phrases, punctuation, a typo.
pub const QUERIES: &[&str] = &[
    "inspect cargo",
    "risk assessment",
    "forklift",
    "patient care",
    "budget",
    "customer service",
    "\"quality control\"",
    "train staff",
    "5+ years (Python)",
    "welding equipment",
    "data analysis reports",
    "safety procedures",
    "contrabnd",
    "supervise",
    "financial records",
    "repair electrical wiring",
    "legal documents",
    "teach students",
    "marketing strategy",
    "maintain equipment",
];

/// The bundled collection folder.
pub fn bundled_data() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}
