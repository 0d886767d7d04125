//! Integration tests: the real binary on real files and real indexes in temp dirs.

mod util;

mod export;
mod faults;
mod generated;
mod hostile;
mod index;
mod json;
mod knowledge;
mod map;
mod occupations;
mod props;
mod rankings;
mod relevance;
mod search;
mod semantic;
mod serve;
mod serve_access;
mod serve_faults;
mod serve_ops;
mod show;
mod snapshots;
