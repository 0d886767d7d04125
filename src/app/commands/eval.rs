//! `skillmap eval`: accuracy and calibration of `map` on labelled postings and titles, with
//! the titles they were made from hidden from the mapper.

use std::io::Write;

use crate::app::cli::EvalArgs;
use crate::app::output::Renderer;
use crate::app::{Outcome, open_engine, read_text};
use crate::map::{self, eval};

pub fn run(args: EvalArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let engine = open_engine(&args.dir.index)?;
    let text = read_text(&args.file)?;
    // Titles the labelled lines were made from are unseen by the mapper.
    let options = map::MapOptions {
        exclude_titles: eval::unseen_titles(&text),
        ..Default::default()
    };
    let mapper = map::Mapper::with_options(&engine, &options)?;
    let pool = crate::workers::pool(args.threads.map(|n| n.get()), "evaluation workers")?;
    let report = pool.install(|| eval::run(&mapper, &text));
    Renderer::for_stdout(args.format).eval(out, &report)?;
    Ok(Outcome::failed_if(!report.errors.is_empty()))
}
