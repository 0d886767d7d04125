//! Command-line interface: clap-derive `Cli`, its subcommands and their arguments.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::builder::TypedValueParser as _;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::domain::level::Level;
use crate::index::ingest::{DEFAULT_MAX_FILE_MIB, DEFAULT_MEMORY_MB};
use crate::search::request;
use crate::serve;

/// Full-text search over competency framework statements.
#[derive(Debug, Parser)]
#[command(name = "skillmap", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Index framework exports (files or folders of .json, .jsonl, .ndjson).
    Index(IndexArgs),
    /// Search statements that mention a skill, ranked across occupations.
    Search(SearchArgs),
    /// Map a job posting (or a job title) to occupations and framework levels.
    Map(MapArgs),
    /// Measure `map` on labelled postings (JSON Lines with id, text, soc, level).
    Eval(EvalArgs),
    /// Measure search ranking on judged queries: nDCG@10, P@10 and recall@100.
    EvalSearch(EvalSearchArgs),
    /// Show one occupation's framework as indexed.
    Show(ShowArgs),
    /// Counts of the index: occupations, statements, levels, groups, size.
    Stats(StatsArgs),
    /// Serve the HTTP JSON API and the web page (read-only).
    Serve(ServeArgs),
    /// Export the statements as flat JSON Lines (and Quickwit/OpenSearch configurations).
    Export(ExportArgs),
    /// Print a shell completion script (bash, zsh, fish, powershell, elvish) on stdout.
    Completions(CompletionsArgs),
    /// Print the manual page (roff) on stdout.
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

impl Command {
    /// The index folder the command reads or writes, if it uses one.
    pub fn index_dir(&self) -> Option<&std::path::Path> {
        let dir = match self {
            Command::Index(a) => &a.dir,
            Command::Search(a) => &a.dir,
            Command::Map(a) => &a.dir,
            Command::Eval(a) => &a.dir,
            Command::EvalSearch(a) => &a.dir,
            Command::Show(a) => &a.dir,
            Command::Stats(a) => &a.dir,
            Command::Serve(a) => &a.dir,
            Command::Export(a) => &a.dir,
            Command::Completions(_) | Command::Man => return None,
        };
        Some(&dir.index)
    }
}

/// Log format of `serve`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormatArg {
    /// One human-readable line per event.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// Text for people.
    #[default]
    Human,
    /// JSON for programs.
    Json,
}

/// Where the index lives.
#[derive(Debug, Args, Clone)]
pub struct IndexDir {
    /// Index folder.
    #[arg(
        long = "index",
        env = "SKILLMAP_INDEX",
        default_value = crate::app::DEFAULT_INDEX,
        value_name = "DIR"
    )]
    pub index: PathBuf,
}

/// Most worker threads a command starts: far above any core count this runs on, far below what
/// makes thread creation fail (each thread reserves its stack).
pub const MAX_THREADS: usize = 256;
/// Largest index-writer budget, in MB: tantivy caps one thread's arena just under 4 GiB.
pub const MAX_MEMORY_MB: usize = 32_000;
/// Largest `--max-file-size`, in MiB (1 TiB): an export file (or a JSON Lines line) is read
/// whole into memory, so any larger limit means none, and the byte count must not overflow.
pub const MAX_FILE_MIB: u64 = 1 << 20;

/// `--threads`: a whole number from 1 to [`MAX_THREADS`].
fn parse_threads(s: &str) -> Result<NonZeroUsize, String> {
    match s.parse::<usize>() {
        Ok(n @ 1..=MAX_THREADS) => Ok(NonZeroUsize::new(n).unwrap_or(NonZeroUsize::MIN)),
        _ => Err(format!("expected a whole number from 1 to {MAX_THREADS}")),
    }
}

/// `--api-key`: 16 to 256 visible ASCII characters (no spaces, no commas).
fn parse_api_key(s: &str) -> Result<String, String> {
    let visible = s.bytes().all(|b| b.is_ascii_graphic() && b != b',');
    if (16..=256).contains(&s.len()) && visible {
        Ok(s.to_string())
    } else {
        Err("expected 16 to 256 visible ASCII characters, without spaces or commas".into())
    }
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Files or folders to index (folders are walked recursively).
    #[arg(value_name = "PATH", default_value = crate::app::BUNDLED_DATA)]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub dir: IndexDir,
    /// Threads for parsing and for indexing [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<NonZeroUsize>,
    /// Memory budget of the index writer, in MB (split between its threads; at least 15 per thread).
    #[arg(long, value_name = "MB", default_value_t = DEFAULT_MEMORY_MB,
          value_parser = clap::value_parser!(u64).range(1..=MAX_MEMORY_MB as u64).map(|n| n as usize))]
    pub memory: usize,
    /// Commit nothing if any file is rejected.
    #[arg(long)]
    pub strict: bool,
    /// Drop everything in the index first (also rebuilds an index of another schema version).
    #[arg(long)]
    pub rebuild: bool,
    /// Merge the index into one segment after the commit: slower indexing, faster searches on
    /// large collections (see BENCHMARKS.md).
    #[arg(long)]
    pub optimize: bool,
    /// Do not write the mapper's tables beside the commit: `map` and `serve` then build them at
    /// start (for collections that are only searched; at 2M statements the tables take about
    /// 15 s and 2 GB to build).
    #[arg(long)]
    pub no_map_tables: bool,
    /// Largest file accepted, in MiB; for JSON Lines, largest line (the file is streamed).
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MAX_FILE_MIB,
          value_parser = clap::value_parser!(u64).range(1..=MAX_FILE_MIB))]
    pub max_file_size: u64,
    /// Summary format: human (on stderr) or json (on stdout).
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Plain words; "quoted phrases" are kept together. Never a syntax error.
    #[arg(value_name = "QUERY", required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// Keep occupations whose SOC code starts with this (33, 33-30, 33-305, 33-3051, 33-3051.04,
    /// or a group code such as 33-3000). Repeatable.
    #[arg(long, value_name = "PREFIX")]
    pub soc: Vec<String>,
    /// Keep statements of this level. Repeatable.
    #[arg(long, value_name = "LEVEL")]
    pub level: Vec<Level>,
    /// Keep occupations of this job zone (1-5). Repeatable.
    #[arg(long, value_name = "N", value_parser = request::parse_job_zone)]
    pub job_zone: Vec<u8>,
    /// Results to show.
    #[arg(long, short = 'n', default_value_t = request::DEFAULT_LIMIT, value_name = "N")]
    pub limit: usize,
    /// Results to skip (for paging).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub offset: usize,
    /// Rank occupations by their evidence instead of single statements.
    #[arg(long)]
    pub by_occupation: bool,
    /// Show why each hit scored as it did.
    #[arg(long)]
    pub explain: bool,
    /// Rank by BM25 and the static embedding's cosine together: statements that say the query
    /// in other words are found too (below the lexical matches at the default ratio).
    #[arg(long)]
    pub hybrid: bool,
    /// With --hybrid: the cosine's share of the score, 0 to 1 (0 is BM25 alone).
    #[arg(long, value_name = "R", requires = "hybrid", value_parser = request::parse_semantic_ratio)]
    pub semantic_ratio: Option<f32>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub dir: IndexDir,
}

#[derive(Debug, Args)]
pub struct MapArgs {
    /// File with the posting text, or - for standard input.
    #[arg(value_name = "FILE", conflicts_with_all = ["text", "batch"])]
    pub file: Option<PathBuf>,
    /// The posting text.
    #[arg(long, conflicts_with = "batch")]
    pub text: Option<String>,
    /// The job title (alone, or with the text).
    #[arg(long, conflicts_with = "batch")]
    pub title: Option<String>,
    /// JSON Lines of {"id", "text", "title"?} (or - for standard input); writes JSON Lines.
    #[arg(long, value_name = "FILE")]
    pub batch: Option<PathBuf>,
    /// Matches to return.
    #[arg(long, default_value_t = crate::map::DEFAULT_TOP as u16,
          value_parser = clap::value_parser!(u16).range(1..=crate::map::MAX_TOP as i64))]
    pub top: u16,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Threads for --batch [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<NonZeroUsize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub dir: IndexDir,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Labelled postings: JSON Lines of {"id", "text", "title"?, "soc", "level"?}.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Threads [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = parse_threads)]
    pub threads: Option<NonZeroUsize>,
    #[command(flatten)]
    pub dir: IndexDir,
}

/// Which judged queries `eval-search` measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum SplitArg {
    /// Every query.
    #[default]
    All,
    /// The tuning half (ranking weights were chosen on it).
    Tune,
    /// The held-out half (nothing was chosen on it).
    HeldOut,
}

#[derive(Debug, Args)]
pub struct EvalSearchArgs {
    /// Queries: `query_id<TAB>query text` lines.
    #[arg(value_name = "QUERIES")]
    pub queries: PathBuf,
    /// Judgments in TREC qrels form: `query_id 0 statement_id grade` (grade 0, 1 or 2).
    #[arg(value_name = "QRELS")]
    pub qrels: PathBuf,
    /// Measure this TREC run (`query_id Q0 statement_id rank score tag`) instead of skillmap's
    /// own ranking, e.g. a baseline's.
    #[arg(long, value_name = "FILE")]
    pub run: Option<PathBuf>,
    /// Write skillmap's ranking as a TREC run to this file (100 deep), for pooling.
    #[arg(long, value_name = "FILE", conflicts_with = "run")]
    pub write_run: Option<PathBuf>,
    /// Measure hybrid search with this semantic ratio (0 to 1; 0, the default, is BM25 alone).
    #[arg(long, value_name = "R", conflicts_with = "run", value_parser = request::parse_semantic_ratio, default_value_t = 0.0)]
    pub semantic_ratio: f32,
    /// Measure occupation ranking (`search --by-occupation`): the judgments and the run name
    /// O*NET-SOC codes instead of statement ids.
    #[arg(long)]
    pub by_occupation: bool,
    /// Which queries: every one, the tuning half or the held-out half (split by a hash of the
    /// query id).
    #[arg(long, value_enum, default_value_t)]
    pub split: SplitArg,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub dir: IndexDir,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// O*NET-SOC code, e.g. 33-3051.04.
    pub soc: String,
    /// Only this level. Repeatable.
    #[arg(long, value_name = "LEVEL")]
    pub level: Vec<Level>,
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    #[command(flatten)]
    pub dir: IndexDir,
}

#[derive(Debug, Args)]
pub struct StatsArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
    /// Also check every index file against its checksum (reads the whole index); damage that
    /// searching would not notice is found this way.
    #[arg(long)]
    pub verify: bool,
    #[command(flatten)]
    pub dir: IndexDir,
}

/// Export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ExportFormatArg {
    /// One statement per line.
    #[default]
    Ndjson,
    /// statements.ndjson plus a Quickwit index configuration.
    Quickwit,
    /// An OpenSearch bulk file plus index settings and mappings.
    Opensearch,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, value_enum, default_value_t)]
    pub format: ExportFormatArg,
    /// Folder to write into (required for quickwit and opensearch; ndjson goes to stdout without it).
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub dir: IndexDir,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = serve::DEFAULT_ADDR)]
    pub addr: std::net::SocketAddr,
    /// Largest request body, in bytes.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_BODY, value_name = "BYTES",
          value_parser = clap::value_parser!(u64).range(1..=1 << 30).map(|n| n as usize))]
    pub max_body: usize,
    /// Longest search query, in characters.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_QUERY_CHARS, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=100_000).map(|n| n as usize))]
    pub max_query_chars: usize,
    /// Largest `limit` of a search.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_LIMIT, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=10_000).map(|n| n as usize))]
    pub max_limit: usize,
    /// Requests doing CPU work at once; more are answered 503.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_INFLIGHT, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=4_096).map(|n| n as usize))]
    pub max_inflight: usize,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, default_value_t = serve::DEFAULT_TIMEOUT_SECS, value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub timeout: u64,
    /// Seconds a connection may stay without a request in progress (before its first request
    /// head, between requests) before it is closed.
    #[arg(long, default_value_t = serve::HEADER_READ_TIMEOUT.as_secs(), value_name = "SECS",
          value_parser = clap::value_parser!(u64).range(1..=600))]
    pub header_timeout: u64,
    /// Connections open at once; more are answered 503 and closed.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_CONNECTIONS, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=100_000).map(|n| n as usize))]
    pub max_connections: usize,
    /// Most lines in one /api/map/batch request; larger batches are refused with 413.
    #[arg(long, default_value_t = serve::DEFAULT_MAX_BATCH_LINES, value_name = "N",
          value_parser = clap::value_parser!(u64).range(1..=1_000_000).map(|n| n as usize))]
    pub max_batch_lines: usize,
    /// Require `Authorization: Bearer KEY` on /api/*. Repeatable; SKILLMAP_API_KEY may hold
    /// several, comma-separated. Keys are 16 to 256 visible ASCII characters.
    #[arg(long = "api-key", value_name = "KEY", env = "SKILLMAP_API_KEY", hide_env_values = true,
          value_delimiter = ',', value_parser = parse_api_key)]
    pub api_keys: Vec<String>,
    /// Log lines on stderr: text or JSON, one per request and per event; filter with RUST_LOG
    /// (default info; RUST_LOG=skillmap::request=off drops the request lines).
    #[arg(long, value_enum, default_value_t)]
    pub log_format: LogFormatArg,
    #[command(flatten)]
    pub dir: IndexDir,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
