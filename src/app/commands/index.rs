//! `skillmap index`: batch-index files and folders, with a progress bar and a report of every
//! file rejected or skipped.

use std::io::Write;

use crate::app::cli::IndexArgs;
use crate::app::output::Renderer;
use crate::app::{Outcome, progress_bar};
use crate::index::ingest::{IngestConfig, ingest};

pub fn run(args: IndexArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let report = ingest(&config(&args), &progress_bar(args.quiet))?;
    Renderer::for_stdout(args.format).index_report(out, &report)?;
    // A rejected file fails the run (exit 2), even though the good ones were committed.
    Ok(Outcome::failed_if(!report.rejected.is_empty()))
}

/// The ingest configuration of the command line's arguments.
fn config(args: &IndexArgs) -> IngestConfig {
    let defaults = IngestConfig::default();
    IngestConfig {
        index_dir: args.dir.index.clone(),
        paths: args.paths.clone(),
        threads: args.threads.map_or(defaults.threads, |n| n.get()),
        memory_bytes: args.memory * 1_000_000,
        strict: args.strict,
        rebuild: args.rebuild,
        max_file_bytes: args.max_file_size.saturating_mul(1 << 20),
        optimize: args.optimize,
        map_tables: !args.no_map_tables,
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use crate::app::cli::{Cli, Command};
    use crate::index::ingest::IngestConfig;

    /// `skillmap index` with no flags indexes the bundled collection into the default index
    /// with `IngestConfig::default`.
    #[test]
    fn the_flags_defaults_are_the_configs_defaults() {
        let Command::Index(args) = Cli::try_parse_from(["skillmap", "index"]).unwrap().command
        else {
            panic!("not index");
        };
        let from_flags = format!("{:?}", super::config(&args));
        assert_eq!(from_flags, format!("{:?}", IngestConfig::default()));
    }
}
