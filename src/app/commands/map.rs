//! `skillmap map`: one posting (a file, standard input, `--text` or `--title`) to occupations
//! and levels, or `--batch` JSON Lines in parallel.

use std::io::Write;

use anyhow::Context;

use crate::app::cli::MapArgs;
use crate::app::output::Renderer;
use crate::app::{Outcome, counter_bar, open_engine, read_text};
use crate::map::{self, Mapper, batch};

pub fn run(args: MapArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let engine = open_engine(&args.dir.index)?;
    let mapper = Mapper::new(&engine)?;
    match &args.batch {
        Some(path) => run_batch(&args, path, &mapper, out),
        None => run_one(&args, &mapper, out),
    }
}

fn run_one(args: &MapArgs, mapper: &Mapper, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let text = match (&args.file, &args.text) {
        (Some(p), _) if p.as_os_str() == "-" => {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut s)
                .context("cannot read the posting from standard input")?;
            s
        }
        (Some(p), _) => read_text(p)?,
        (None, Some(t)) => t.clone(),
        (None, None) => String::new(),
    };
    let req = map::MapRequest {
        text,
        title: args.title.clone(),
        top: usize::from(args.top),
    };
    let result = mapper.map(&req)?;
    Renderer::for_stdout(args.format).map(out, &result)?;
    Ok(Outcome::found_if(!result.matches.is_empty()))
}

fn run_batch(
    args: &MapArgs,
    path: &std::path::Path,
    mapper: &Mapper,
    out: &mut impl Write,
) -> anyhow::Result<Outcome> {
    let pool = crate::workers::pool(args.threads.map(|n| n.get()), "mapping workers")?;
    let pb = counter_bar(args.quiet, "mapping");
    let top = usize::from(args.top);
    let never = batch::Cancel::never();
    let summary = if path.as_os_str() == "-" {
        batch::run(
            mapper,
            std::io::stdin().lock(),
            out,
            top,
            &pool,
            &pb,
            &never,
        )?
    } else {
        let file =
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let input = std::io::BufReader::new(file);
        batch::run(mapper, input, out, top, &pool, &pb, &never)?
    };
    if summary.errors > 0 {
        eprintln!(
            "skillmap: {} of {} lines could not be mapped (see their \"error\" lines)",
            summary.errors, summary.lines
        );
    }
    Ok(Outcome::failed_if(summary.errors > 0))
}
