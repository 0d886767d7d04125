//! Integration tests: the real binary on real files and real indexes in temp dirs.

mod util;

mod index;
mod json;
mod search;
mod show;
