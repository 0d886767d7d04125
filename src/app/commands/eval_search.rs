//! `skillmap eval-search`: nDCG@10, P@10 and recall of statement search on judged queries, for
//! the index's ranking or for a TREC run file.

use std::io::Write;
use std::path::Path;

use anyhow::Context;

use crate::app::cli::{EvalSearchArgs, SplitArg};
use crate::app::output::{Renderer, trec};
use crate::app::{Outcome, open_engine, read_text};
use crate::search::relevance::{self, Run, Split};

pub fn run(args: EvalSearchArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let (qpath, qtext) = read(&args.queries)?;
    let (rpath, rtext) = read(&args.qrels)?;
    let queries = relevance::parse_queries(&qpath, &qtext)?;
    let qrels = relevance::parse_qrels(&rpath, &rtext)?;
    let split = match args.split {
        SplitArg::All => Split::All,
        SplitArg::Tune => Split::Tune,
        SplitArg::HeldOut => Split::HeldOut,
    };
    let (name, run) = match &args.run {
        Some(p) => {
            let (path, text) = read(p)?;
            let run = relevance::parse_run(&path, &text)?;
            (path, run)
        }
        None if args.by_occupation => (
            "skillmap --by-occupation".to_string(),
            own_run(&args, &queries, &qrels)?,
        ),
        None => ("skillmap".to_string(), own_run(&args, &queries, &qrels)?),
    };
    let report = relevance::evaluate(&name, &queries, &qrels, &run, split);
    Renderer::for_stdout(args.format).search_eval(out, &report)?;
    Ok(Outcome::Found)
}

/// A file's name as given and its text.
fn read(p: &Path) -> anyhow::Result<(String, String)> {
    Ok((p.display().to_string(), read_text(p)?))
}

/// The index's own ranking of the queries, after checking that the judgments were made on
/// this collection; written as a TREC run when `--write-run` asks.
fn own_run(
    args: &EvalSearchArgs,
    queries: &[relevance::Query],
    qrels: &relevance::Qrels,
) -> anyhow::Result<Run> {
    let engine = open_engine(&args.dir.index)?;
    let missing = relevance::missing_judged(&engine, qrels, args.by_occupation)?;
    if let Some(first) = missing.first() {
        let what = if args.by_occupation {
            "occupations"
        } else {
            "statements"
        };
        anyhow::bail!(
            "{} judged {what} are not in the index at {} (first: {first}): \
             the judgments were made on another collection",
            missing.len(),
            args.dir.index.display(),
        );
    }
    let run = if args.by_occupation {
        relevance::run_occupations(&engine, queries, args.semantic_ratio)?
    } else {
        relevance::run_hybrid(&engine, queries, args.semantic_ratio)?
    };
    if let Some(p) = &args.write_run {
        let mut f = std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot write {}", p.display()))?,
        );
        trec::write_run(&mut f, queries, &run, "skillmap")
            .and_then(|_| f.flush())
            .with_context(|| format!("cannot write {}", p.display()))?;
    }
    Ok(run)
}
