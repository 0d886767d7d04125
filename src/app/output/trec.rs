//! TREC run files: a ranking written as `query_id Q0 doc_id rank score tag` lines, the format
//! that trec_eval and the relevance scripts read.

use std::io::{self, Write};

use crate::search::relevance::{Query, Run};

/// A ranking as a TREC run: `query_id Q0 statement_id rank score tag` (the score is minus the
/// rank, since runs only carry order).
pub fn write_run<W: Write>(w: &mut W, queries: &[Query], run: &Run, tag: &str) -> io::Result<()> {
    for q in queries {
        for (i, id) in run.get(&q.id).into_iter().flatten().enumerate() {
            writeln!(
                w,
                "{} Q0 {} {} {} {tag}",
                q.id,
                id,
                i + 1,
                -((i + 1) as i64)
            )?;
        }
    }
    Ok(())
}
