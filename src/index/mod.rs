//! The index: its schema and analyzer, opening and checking it (`engine`), batch ingest, the
//! stored statements and knowledge documents, the vector file, and whole-index readers (stats,
//! export, one occupation's view).

pub mod analyzer;
pub mod engine;
pub mod export;
pub mod ingest;
pub mod knowledge;
pub mod schema;
pub mod show;
pub mod stats;
pub mod vectors;
