//! `skillmap stats`: the index's counts, and with `--verify` its checksums.

use std::io::Write;

use crate::app::cli::StatsArgs;
use crate::app::output::Renderer;
use crate::app::{Outcome, open_engine};
use crate::index::{engine, stats};

pub fn run(args: StatsArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let engine = open_engine(&args.dir.index)?;
    if args.verify {
        let files = engine::verify(&engine)?;
        eprintln!("verified: {files} index files match their checksums");
    }
    let s = stats::stats(&engine)?;
    Renderer::for_stdout(args.format).stats(out, &s)?;
    Ok(Outcome::Found)
}
