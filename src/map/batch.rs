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
#[derive(Debug, Serialize, utoipa::ToSchema)]
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

/// What stops a batch early: a flag set from outside (an HTTP request whose deadline passed),
/// checked before each line is mapped.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Option<std::sync::Arc<std::sync::atomic::AtomicBool>>);

impl Cancel {
    /// A batch nothing stops.
    pub fn never() -> Cancel {
        Cancel(None)
    }

    /// A batch stopped once `flag` is set.
    pub fn on(flag: std::sync::Arc<std::sync::atomic::AtomicBool>) -> Cancel {
        Cancel(Some(flag))
    }

    fn is_set(&self) -> bool {
        self.0
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
    }
}

/// Reads one line as bytes (without its line break); `None` at the end of the input.
fn next_line<R: BufRead>(input: &mut R, buf: &mut Vec<u8>) -> Result<Option<()>> {
    buf.clear();
    let n = input
        .read_until(b'\n', buf)
        .map_err(|e| Error::io("<batch input>", e))?;
    if n == 0 {
        return Ok(None);
    }
    if buf.last() == Some(&b'\n') {
        buf.pop();
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
    }
    Ok(Some(()))
}

/// Reads JSON Lines from `input`, maps them in parallel chunks, writes one output line per
/// non-blank input line, in input order. A line that is not UTF-8 or not JSON gets an error line
/// of its own; the others go on. Stops with [`Error::Cancelled`] when `cancel` is set.
pub fn run<R: BufRead, W: Write>(
    mapper: &Mapper,
    mut input: R,
    out: &mut W,
    top: usize,
    pool: &rayon::ThreadPool,
    progress: &ProgressBar,
    cancel: &Cancel,
) -> Result<BatchSummary> {
    let mut summary = BatchSummary::default();
    // A line is its text, or why it has none.
    let mut chunk: Vec<(usize, std::result::Result<String, String>)> = Vec::with_capacity(CHUNK);
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        chunk.clear();
        while next_line(&mut input, &mut buf)?.is_some() {
            line_no += 1;
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let line = match std::str::from_utf8(&buf) {
                Ok(t) => Ok(t.to_string()),
                Err(e) => Err(format!(
                    "invalid UTF-8 at byte {} of the line; expected UTF-8 JSON",
                    e.valid_up_to() + 1
                )),
            };
            chunk.push((line_no, line));
            if chunk.len() == CHUNK {
                break;
            }
        }
        if chunk.is_empty() {
            break;
        }
        let outputs: Vec<Option<BatchOutput>> = pool.install(|| {
            chunk
                .par_iter()
                .map(|(n, l)| {
                    if cancel.is_set() {
                        return None;
                    }
                    let o = match l {
                        Ok(text) => map_line(mapper, *n, text, top),
                        Err(why) => BatchOutput::Err {
                            id: None,
                            line: *n,
                            error: why.clone(),
                        },
                    };
                    progress.inc(1);
                    Some(o)
                })
                .collect()
        });
        if cancel.is_set() {
            return Err(Error::Cancelled);
        }
        for o in outputs.iter().flatten() {
            summary.lines += 1;
            summary.errors += usize::from(matches!(o, BatchOutput::Err { .. }));
            serde_json::to_writer(&mut *out, o)?;
            out.write_all(b"\n").map_err(|e| Error::io("<stdout>", e))?;
        }
    }
    progress.finish_and_clear();
    Ok(summary)
}

/// Non-blank lines of a batch body, counted before any work so that an oversized batch is
/// refused at once.
pub fn count_lines(body: &[u8]) -> usize {
    body.split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .count()
}
