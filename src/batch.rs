//! Mapping many postings: JSON Lines in, JSON Lines out in input order, in parallel.

use std::io::{BufRead, Write};

use indicatif::ProgressBar;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::map::{MapRequest, MapResult, Mapper};

/// Lines mapped together; bounded so that memory stays flat on endless input.
const CHUNK: usize = 2048;

/// One input line.
#[derive(Debug, Deserialize)]
struct BatchLine {
    #[serde(default)]
    id: Option<serde_json::Value>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    title: Option<String>,
}

/// One output line: the answer, or the error for that line.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum BatchOutput {
    Ok {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<serde_json::Value>,
        #[serde(flatten)]
        result: MapResult,
    },
    Err {
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<serde_json::Value>,
        line: usize,
        error: String,
    },
}

/// Maps one line of batch input (1-based `line` for error reports).
pub fn map_line(mapper: &Mapper, line: usize, text: &str, top: usize) -> BatchOutput {
    let parsed: BatchLine = match serde_json::from_str(text) {
        Ok(p) => p,
        Err(e) => {
            return BatchOutput::Err {
                id: None,
                line,
                error: format!("not a JSON object with id and text: {e}"),
            };
        }
    };
    let req = MapRequest {
        text: parsed.text.unwrap_or_default(),
        title: parsed.title,
        top,
    };
    match mapper.map(&req) {
        Ok(result) => BatchOutput::Ok {
            id: parsed.id,
            result,
        },
        Err(e) => BatchOutput::Err {
            id: parsed.id,
            line,
            error: e.to_string(),
        },
    }
}

/// Summary of a batch run.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BatchSummary {
    pub lines: usize,
    pub errors: usize,
}

/// Reads JSON Lines from `input`, maps them in parallel chunks, writes one output line per
/// non-blank input line, in input order.
pub fn run<R: BufRead, W: Write>(
    mapper: &Mapper,
    input: R,
    out: &mut W,
    top: usize,
    pool: &rayon::ThreadPool,
    progress: &ProgressBar,
) -> Result<BatchSummary> {
    let mut summary = BatchSummary::default();
    let mut chunk: Vec<(usize, String)> = Vec::with_capacity(CHUNK);
    let mut lines = input.lines().enumerate();
    loop {
        chunk.clear();
        for (i, line) in lines.by_ref() {
            let line = line.map_err(|e| Error::io("<batch input>", e))?;
            if line.trim().is_empty() {
                continue;
            }
            chunk.push((i + 1, line));
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let outputs: Vec<BatchOutput> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(n, l)| {
                    let o = map_line(mapper, *n, l, top);
                    progress.inc(1);
                    o
                })
                .collect()
        });
        for o in &outputs {
            summary.lines += 1;
            summary.errors += usize::from(matches!(o, BatchOutput::Err { .. }));
            serde_json::to_writer(&mut *out, o)?;
            out.write_all(b"\n").map_err(|e| Error::io("<stdout>", e))?;
        }
    }
    progress.finish_and_clear();
    Ok(summary)
}
