//! One file per subcommand. Each `run` takes the command's parsed arguments and the stdout
//! writer, calls the library, hands the result to the command's [`Renderer`] and says how the
//! process should exit.
//!
//! [`Renderer`]: crate::app::output::Renderer

pub mod eval;
pub mod eval_search;
pub mod export;
pub mod generated;
pub mod index;
pub mod map;
pub mod search;
pub mod serve;
pub mod show;
pub mod stats;

use std::io::Write;

use crate::app::Outcome;
use crate::app::cli::Command;

/// Runs a command with stdout buffered (flushed once, at the end).
pub fn run(command: Command) -> anyhow::Result<Outcome> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let outcome = match command {
        Command::Index(args) => index::run(args, &mut out)?,
        Command::Search(args) => search::run(args, &mut out)?,
        Command::Map(args) => map::run(args, &mut out)?,
        Command::Eval(args) => eval::run(args, &mut out)?,
        Command::EvalSearch(args) => eval_search::run(args, &mut out)?,
        Command::Show(args) => show::run(args, &mut out)?,
        Command::Stats(args) => stats::run(args, &mut out)?,
        Command::Export(args) => export::run(args, &mut out)?,
        Command::Serve(args) => serve::run(args)?,
        Command::Completions(_) | Command::Man => return generated::run(&command),
    };
    out.flush()?;
    Ok(outcome)
}
