//! The command line: `run` takes a parsed command across the panic boundary to its use case in
//! `commands/` (one file per subcommand), which opens the index, calls the library and hands
//! the result to the renderer chosen once from `--format` (`output/`).
//!
//! This is the binary's boundary, so errors here are `anyhow` with context (the file being
//! read, the index being opened); everything below returns the typed `crate::Error`.

pub mod cli;
pub mod commands;
pub mod output;

use std::io::IsTerminal;
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::cli::{Cli, Command};
use crate::domain::framework as model;
use crate::error::Error;
use crate::index::engine::{self, Engine};
use crate::index::ingest::{IngestConfig, ingest};
use crate::panics;

/// What the process should exit with: 0 success, 1 nothing found, 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Found,
    NotFound,
    Failed,
}

impl Outcome {
    /// Found when the command found something, NotFound otherwise (exit 1, like grep).
    pub fn found_if(found: bool) -> Outcome {
        if found {
            Outcome::Found
        } else {
            Outcome::NotFound
        }
    }

    /// Found when nothing failed, Failed otherwise (exit 2: some input was rejected).
    pub fn failed_if(failed: bool) -> Outcome {
        if failed {
            Outcome::Failed
        } else {
            Outcome::Found
        }
    }
}

/// The bundled collection, indexed on first use when the default index does not exist.
pub const BUNDLED_DATA: &str = "data";
/// The default index folder.
pub const DEFAULT_INDEX: &str = "index";

/// The progress bar of a run over files, on stderr (hidden with `--quiet` or off a terminal,
/// so that logs and pipes get no control characters).
pub(crate) fn progress_bar(quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} indexing [{bar:40}] {pos}/{len} files {per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb
}

/// A counter of work whose size is unknown in advance (batch lines on a stream), on stderr.
pub(crate) fn counter_bar(quiet: bool, what: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template(&format!("{{spinner}} {what} {{pos}} postings {{per_sec}}"))
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb
}

/// Reads a UTF-8 text file, naming the file and the first bad byte when it is not UTF-8.
pub(crate) fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match model::decode_utf8(&bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => anyhow::bail!("{}: {e}", path.display()),
    }
}

/// Opens the index; when it is the default one, absent, and the bundled collection is here,
/// builds it from `data/` first (saying so on stderr).
pub(crate) fn open_engine(index: &Path) -> anyhow::Result<Engine> {
    if !engine::index_exists(index)
        && index == Path::new(DEFAULT_INDEX)
        && Path::new(BUNDLED_DATA).is_dir()
    {
        eprintln!(
            "skillmap: no index at {DEFAULT_INDEX}/ yet; building it from {BUNDLED_DATA}/ first"
        );
        let report = ingest(&IngestConfig::default(), &progress_bar(false))?;
        output::human::index_report(&mut std::io::stderr().lock(), &report)?;
    }
    Engine::open(index).with_context(|| format!("cannot open the index at {}", index.display()))
}

/// Runs one command, writing results to stdout and progress, warnings and summaries to stderr.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let Some(index) = cli.command.index_dir().map(Path::to_path_buf) else {
        return commands::generated::run(&cli.command);
    };
    let reads = !matches!(cli.command, Command::Index(_));
    match panics::catch(|| commands::run(cli.command)) {
        // A reading command that fails inside tantivy met a damaged file, most likely.
        Ok(Err(e)) if reads => match e.downcast::<Error>() {
            Ok(Error::Tantivy(t)) => Err(engine::damaged(&index, &t.to_string()).into()),
            Ok(other) => Err(other.into()),
            Err(e) => Err(e),
        },
        Ok(r) => r,
        // tantivy panics on some damaged files (an offset out of bounds): the boundary of the
        // command turns that into an error that names the index and the way out.
        Err(detail) => {
            if reads {
                Err(engine::damaged(&index, &detail).into())
            } else {
                Err(anyhow::anyhow!(
                    "indexing failed inside tantivy ({detail}); the last committed index at {} is unchanged",
                    index.display()
                ))
            }
        }
    }
}
