//! `skillmap show`: one occupation's framework as indexed, with its titles and tools.

use std::io::Write;

use crate::app::cli::ShowArgs;
use crate::app::output::Renderer;
use crate::app::{Outcome, open_engine};
use crate::error::Error;
use crate::index::{engine, show};

pub fn run(args: ShowArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let engine = open_engine(&args.dir.index)?;
    let view = match show::show(&engine, &args.soc, &args.level) {
        // A code the index should hold may be missing because a file is damaged: the
        // checksums tell (on this error path only; the service does not pay for it).
        Err(e @ Error::UnknownSoc { .. }) => {
            engine::verify(&engine)?;
            return Err(e.into());
        }
        other => other?,
    };
    Renderer::for_stdout(args.format).show(out, &view)?;
    Ok(Outcome::Found)
}
