//! The command line's use cases: `run` dispatches a parsed command, opens the index (building
//! the bundled one on first use) and writes results to stdout, progress and summaries to stderr.

pub mod cli;
pub mod output;

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::app::cli::{Cli, Command, Format, IndexArgs};
use crate::app::output::Style;
use crate::domain::framework as model;
use crate::index::engine::{self, Engine};
use crate::index::ingest::{IngestConfig, ingest};
use crate::index::{export, show, stats};
use crate::map::{self, batch, eval};
use crate::search::{self, SearchRequest, relevance};
use crate::serve;

use crate::error::Error;
use crate::panics;

/// What the process should exit with: 0 success, 1 nothing found, 2 error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Found,
    NotFound,
    Failed,
}

/// The bundled collection, indexed on first use when the default index does not exist.
pub const BUNDLED_DATA: &str = "data";
/// The default index folder.
pub const DEFAULT_INDEX: &str = "index";

fn progress_bar(quiet: bool) -> ProgressBar {
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

fn counter_bar(quiet: bool, what: &str) -> ProgressBar {
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

fn thread_pool(threads: Option<std::num::NonZeroUsize>) -> anyhow::Result<rayon::ThreadPool> {
    let n = threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, |n| n.get()),
        |n| n.get(),
    );
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .context("cannot start the worker threads")
}

/// Reads a UTF-8 text file, naming the file and the first bad byte when it is not UTF-8.
fn read_text(path: &Path) -> anyhow::Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    match model::decode_utf8(&bytes) {
        Ok(s) => Ok(s.to_string()),
        Err(e) => anyhow::bail!("{}: {e}", path.display()),
    }
}

fn stdout_style() -> Style {
    Style {
        color: std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
    }
}

fn index_options(args: &IndexArgs) -> IngestConfig {
    let threads = args
        .threads
        .map(|n| n.get())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    IngestConfig {
        index_dir: args.dir.index.clone(),
        paths: args.paths.clone(),
        threads,
        memory_bytes: args.memory * 1_000_000,
        strict: args.strict,
        rebuild: args.rebuild,
        max_file_bytes: args.max_file_size.saturating_mul(1 << 20),
        optimize: args.optimize,
    }
}

/// Opens the index; when it is the default one, absent, and the bundled collection is here,
/// builds it from `data/` first (saying so on stderr).
fn open_engine(index: &Path) -> anyhow::Result<Engine> {
    if !engine::index_exists(index)
        && index == Path::new(DEFAULT_INDEX)
        && Path::new(BUNDLED_DATA).is_dir()
    {
        eprintln!(
            "skillmap: no index at {DEFAULT_INDEX}/ yet; building it from {BUNDLED_DATA}/ first"
        );
        let opts = IngestConfig::default();
        let report = ingest(&opts, &progress_bar(false))?;
        output::index_report_human(&mut std::io::stderr().lock(), &report)?;
    }
    Engine::open(index).with_context(|| format!("cannot open the index at {}", index.display()))
}

/// Runs one command, writing results to stdout and progress, warnings and summaries to stderr.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    let Some(index) = cli.command.index_dir().map(Path::to_path_buf) else {
        return generated(&cli.command);
    };
    let reads = !matches!(cli.command, Command::Index(_));
    match panics::catch(|| run_command(cli)) {
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

/// The commands that read no index: completion scripts and the manual page, generated from
/// the same clap definition that parses the command line.
fn generated(command: &Command) -> anyhow::Result<Outcome> {
    use clap::CommandFactory;
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

fn run_command(cli: Cli) -> anyhow::Result<Outcome> {
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let outcome = match cli.command {
        Command::Index(args) => {
            let opts = index_options(&args);
            let report = ingest(&opts, &progress_bar(args.quiet))?;
            match args.format {
                Format::Human => {
                    output::index_report_human(&mut std::io::stderr().lock(), &report)?
                }
                Format::Json => output::json_line(&mut out, &report)?,
            }
            if report.rejected.is_empty() {
                Outcome::Found
            } else {
                Outcome::Failed
            }
        }
        Command::Search(args) => {
            let engine = open_engine(&args.dir.index)?;
            let req = SearchRequest {
                query: args.query.join(" "),
                soc: args.soc,
                levels: args.level,
                job_zones: args.job_zone,
                limit: args.limit,
                offset: args.offset,
                explain: args.explain,
                // Totals are shown to people only; JSON Lines carry hits alone.
                count: args.format == Format::Human,
                semantic_ratio: search::request::semantic_ratio(args.hybrid, args.semantic_ratio)
                    .map_err(Error::Invalid)?,
            }
            .validated()?;
            let found = if args.by_occupation {
                let r = search::search_occupations(&engine, &req)?;
                match args.format {
                    Format::Human => output::occupations_human(&mut out, &r, stdout_style())?,
                    Format::Json => output::occupations_json(&mut out, &r)?,
                }
                r.total > 0
            } else {
                let r = search::search(&engine, &req)?;
                match args.format {
                    Format::Human => output::search_human(&mut out, &r, stdout_style())?,
                    Format::Json => output::search_json(&mut out, &r)?,
                }
                !r.hits.is_empty() || r.total.is_some_and(|n| n > 0)
            };
            if found {
                Outcome::Found
            } else {
                Outcome::NotFound
            }
        }
        Command::Map(args) => {
            let engine = open_engine(&args.dir.index)?;
            let mapper = map::Mapper::new(&engine)?;
            let top = usize::from(args.top);
            if let Some(path) = &args.batch {
                let pool = thread_pool(args.threads)?;
                let pb = counter_bar(args.quiet, "mapping");
                let summary = if path.as_os_str() == "-" {
                    batch::run(
                        &mapper,
                        std::io::stdin().lock(),
                        &mut out,
                        top,
                        &pool,
                        &pb,
                        &batch::Cancel::never(),
                    )?
                } else {
                    let file = std::fs::File::open(path)
                        .with_context(|| format!("cannot open {}", path.display()))?;
                    batch::run(
                        &mapper,
                        std::io::BufReader::new(file),
                        &mut out,
                        top,
                        &pool,
                        &pb,
                        &batch::Cancel::never(),
                    )?
                };
                if summary.errors > 0 {
                    eprintln!(
                        "skillmap: {} of {} lines could not be mapped (see their \"error\" lines)",
                        summary.errors, summary.lines
                    );
                    Outcome::Failed
                } else {
                    Outcome::Found
                }
            } else {
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
                    top,
                };
                let result = mapper.map(&req)?;
                match args.format {
                    Format::Human => output::map_human(&mut out, &result, stdout_style())?,
                    Format::Json => output::json_line(&mut out, &result)?,
                }
                if result.matches.is_empty() {
                    Outcome::NotFound
                } else {
                    Outcome::Found
                }
            }
        }
        Command::Eval(args) => {
            let engine = open_engine(&args.dir.index)?;
            let text = read_text(&args.file)?;
            // Titles the labelled lines were made from are unseen by the mapper.
            let options = map::MapOptions {
                exclude_titles: eval::unseen_titles(&text),
                ..Default::default()
            };
            let mapper = map::Mapper::with_options(&engine, &options)?;
            let pool = thread_pool(args.threads)?;
            let report = pool.install(|| eval::run(&mapper, &text));
            match args.format {
                Format::Human => output::eval_human(&mut out, &report)?,
                Format::Json => output::json_line(&mut out, &report)?,
            }
            // Results on stdout, the lines that could not be used on stderr.
            output::eval_errors_human(&mut std::io::stderr().lock(), &report)?;
            if report.errors.is_empty() {
                Outcome::Found
            } else {
                Outcome::Failed
            }
        }
        Command::EvalSearch(args) => {
            let read = |p: &Path| -> anyhow::Result<(String, String)> {
                Ok((p.display().to_string(), read_text(p)?))
            };
            let (qpath, qtext) = read(&args.queries)?;
            let (rpath, rtext) = read(&args.qrels)?;
            let queries = relevance::parse_queries(&qpath, &qtext)?;
            let qrels = relevance::parse_qrels(&rpath, &rtext)?;
            let split = match args.split {
                cli::SplitArg::All => relevance::Split::All,
                cli::SplitArg::Tune => relevance::Split::Tune,
                cli::SplitArg::HeldOut => relevance::Split::HeldOut,
            };
            let (name, run) = match &args.run {
                Some(p) => {
                    let (path, text) = read(p)?;
                    let run = relevance::parse_run(&path, &text)?;
                    (path, run)
                }
                None => {
                    let engine = open_engine(&args.dir.index)?;
                    let missing = relevance::missing_statements(&engine, &qrels)?;
                    if !missing.is_empty() {
                        anyhow::bail!(
                            "{} judged statements are not in the index at {} (first: {}): \
                             the judgments were made on another collection",
                            missing.len(),
                            args.dir.index.display(),
                            missing[0]
                        );
                    }
                    let run = relevance::run_hybrid(&engine, &queries, args.semantic_ratio)?;
                    if let Some(p) = &args.write_run {
                        let mut f = std::io::BufWriter::new(
                            std::fs::File::create(p)
                                .with_context(|| format!("cannot write {}", p.display()))?,
                        );
                        output::trec_run(&mut f, &queries, &run, "skillmap")
                            .and_then(|_| f.flush())
                            .with_context(|| format!("cannot write {}", p.display()))?;
                    }
                    ("skillmap".to_string(), run)
                }
            };
            let report = relevance::evaluate(&name, &queries, &qrels, &run, split);
            match args.format {
                Format::Human => output::search_eval_human(&mut out, &report)?,
                Format::Json => output::json_line(&mut out, &report)?,
            }
            Outcome::Found
        }
        Command::Show(args) => {
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
            match args.format {
                Format::Human => output::show_human(&mut out, &view, stdout_style())?,
                Format::Json => output::json_line(&mut out, &view)?,
            }
            Outcome::Found
        }
        Command::Serve(args) => {
            let engine = std::sync::Arc::new(open_engine(&args.dir.index)?);
            let config = serve::ServeConfig {
                addr: args.addr,
                max_body: args.max_body,
                max_query_chars: args.max_query_chars,
                max_limit: args.max_limit.min(search::MAX_LIMIT),
                max_inflight: args.max_inflight.max(1),
                timeout: std::time::Duration::from_secs(args.timeout.max(1)),
                header_timeout: std::time::Duration::from_secs(args.header_timeout.max(1)),
                max_connections: args.max_connections,
                max_batch_lines: args.max_batch_lines,
                api_keys: args.api_keys,
                log_format: match args.log_format {
                    cli::LogFormatArg::Text => serve::LogFormat::Text,
                    cli::LogFormatArg::Json => serve::LogFormat::Json,
                },
            };
            tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .map_err(|e| Error::Start {
                    what: "async runtime",
                    cause: e.to_string(),
                })?
                .block_on(serve::serve(engine, config))?;
            Outcome::Found
        }
        Command::Export(args) => {
            let engine = open_engine(&args.dir.index)?;
            let format = match args.format {
                cli::ExportFormatArg::Ndjson => export::ExportFormat::Ndjson,
                cli::ExportFormatArg::Quickwit => export::ExportFormat::Quickwit,
                cli::ExportFormatArg::Opensearch => export::ExportFormat::Opensearch,
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
                None if format == export::ExportFormat::Ndjson => {
                    let n = export::write_ndjson(&engine, &mut out, None)?;
                    eprintln!("exported {n} statements");
                }
                None => anyhow::bail!(
                    "--format quickwit and opensearch write several files: give --out DIR"
                ),
            }
            Outcome::Found
        }
        Command::Completions(_) | Command::Man => return generated(&cli.command),
        Command::Stats(args) => {
            let engine = open_engine(&args.dir.index)?;
            if args.verify {
                let files = engine::verify(&engine)?;
                eprintln!("verified: {files} index files match their checksums");
            }
            let s = stats::stats(&engine)?;
            match args.format {
                Format::Human => output::stats_human(&mut out, &s)?,
                Format::Json => output::json_line(&mut out, &s)?,
            }
            Outcome::Found
        }
    };
    out.flush()?;
    Ok(outcome)
}
