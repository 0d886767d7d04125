//! skillmap: full-text search over competency framework statements.
//!
//! The tree tells the architecture, from the inside out:
//! - `domain`: the framework exports, SOC codes and levels, with no I/O;
//! - `index`: the tantivy index (schema, analyzer, ingest, stored data, vectors);
//! - `embed`: the static embedding table compiled into the binary;
//! - `search` and `map`: the two use cases, each a pipeline over the index;
//! - `app` (the command line) and `serve` (HTTP): the front ends, which build the same
//!   validated requests and only format what the use cases return;
//! - `error`, `panics` and `workers`: what every layer shares (typed errors, the panic
//!   boundary, thread pools).

pub mod app;
pub mod domain;
pub mod embed;
pub mod error;
pub mod index;
pub mod map;
pub mod numbering;
pub mod panics;
pub mod search;
pub mod serve;
pub mod short;
pub mod workers;

pub use app::{BUNDLED_DATA, DEFAULT_INDEX, Outcome, run};
pub use error::{Error, Result};
