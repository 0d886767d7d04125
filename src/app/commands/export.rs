//! `skillmap export`: every statement as NDJSON on stdout, or the files that Quickwit or
//! OpenSearch ingest in a folder.

use std::io::Write;

use crate::app::cli::{ExportArgs, ExportFormatArg};
use crate::app::{Outcome, open_engine};
use crate::index::export::{self, ExportFormat};

pub fn run(args: ExportArgs, out: &mut impl Write) -> anyhow::Result<Outcome> {
    let engine = open_engine(&args.dir.index)?;
    let format = match args.format {
        ExportFormatArg::Ndjson => ExportFormat::Ndjson,
        ExportFormatArg::Quickwit => ExportFormat::Quickwit,
        ExportFormatArg::Opensearch => ExportFormat::Opensearch,
    };
    match &args.out {
        Some(dir) => {
            let r = export::export_to_dir(&engine, format, dir)?;
            eprintln!(
                "exported {} statements: {}",
                r.statements,
                r.files.join(", ")
            );
        }
        None if format == ExportFormat::Ndjson => {
            let n = export::write_ndjson(&engine, out, None)?;
            eprintln!("exported {n} statements");
        }
        None => {
            anyhow::bail!("--format quickwit and opensearch write several files: give --out DIR")
        }
    }
    Ok(Outcome::Found)
}
