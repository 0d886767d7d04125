//! The `skillmap` binary: parse the command line, run it, map the outcome to an exit status.

use std::process::ExitCode;

use clap::Parser;
use skillmap::{Outcome, app::cli::Cli, run};

/// mimalloc instead of the system allocator: indexing and batch mapping allocate per document
/// and per posting; glibc's malloc and free were about 12% of an indexing run's CPU samples, and
/// batch mapping took 0.6-0.8x the time with mimalloc (BENCHMARKS.md, "Indexing after the
/// allocator change").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    skillmap::panics::install_quiet_hook();
    let cli = Cli::parse();
    match run(cli) {
        Ok(Outcome::Found) => ExitCode::from(0),
        Ok(Outcome::NotFound) => ExitCode::from(1),
        Ok(Outcome::Failed) => ExitCode::from(2),
        Err(err) => {
            // A closed pipe (`skillmap search x | head`) is not an error.
            if is_broken_pipe(&err) {
                return ExitCode::from(0);
            }
            eprintln!("skillmap: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|e| e.io_error_kind() == Some(BrokenPipe))
            || c.downcast_ref::<skillmap::Error>()
                .is_some_and(|e| match e {
                    skillmap::Error::Json(j) => j.io_error_kind() == Some(BrokenPipe),
                    skillmap::Error::Io { source, .. } => source.kind() == BrokenPipe,
                    _ => false,
                })
    })
}
