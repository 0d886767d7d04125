//! `skillmap completions` and `skillmap man`: shell completion scripts and the manual page,
//! generated from the same clap definition that parses the command line.

use std::io::Write;

use clap::CommandFactory;

use crate::app::Outcome;
use crate::app::cli::{Cli, Command};

pub fn run(command: &Command) -> anyhow::Result<Outcome> {
    // Rendered in memory first: clap_complete panics on a failed write (`| head`), while a
    // write error of ours is an error (or, for a closed pipe, nothing).
    let mut text = Vec::new();
    let mut cli = Cli::command();
    match command {
        Command::Completions(args) => {
            clap_complete::generate(args.shell, &mut cli, "skillmap", &mut text);
        }
        _ => clap_mangen::Man::new(cli).render(&mut text)?,
    }
    let mut out = std::io::stdout().lock();
    out.write_all(&text)?;
    out.flush()?;
    Ok(Outcome::Found)
}
