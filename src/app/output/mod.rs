//! Output: the one place where results become text. A [`Renderer`] is chosen once per command
//! from `--format`, and every command hands it its result; `human` and `json` hold the two
//! formats, `trec` the run files of `eval-search --write-run`.
//!
//! Results go to the writer given (stdout); summaries for people (the indexing report, the
//! lines an evaluation could not use) go to stderr, so that stdout carries results only.

pub mod human;
pub mod json;
pub mod trec;

use std::io::{self, IsTerminal, Write};

pub use human::{Style, esc};

use crate::app::cli::Format;
use crate::index::ingest::IngestReport;
use crate::index::show::OccupationView;
use crate::index::stats::Stats;
use crate::map::MapResult;
use crate::map::eval::EvalReport;
use crate::search::relevance::SearchEvalReport;
use crate::search::{OccupationResults, SearchResults};

/// How a command's results are written: text for people (with its decoration) or JSON Lines.
#[derive(Debug, Clone, Copy)]
pub enum Renderer {
    Human(Style),
    Json,
}

impl Renderer {
    /// The renderer of `--format` for stdout: colour only on a terminal and without `NO_COLOR`.
    pub fn for_stdout(format: Format) -> Renderer {
        match format {
            Format::Human => Renderer::Human(Style {
                color: io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
            }),
            Format::Json => Renderer::Json,
        }
    }

    /// Statement hits (JSON: one hit per line; totals are for people only).
    pub fn search(&self, w: &mut impl Write, r: &SearchResults) -> io::Result<()> {
        match self {
            Renderer::Human(style) => human::search(w, r, *style),
            Renderer::Json => json::search(w, r),
        }
    }

    /// Occupations ranked by their evidence (JSON: one occupation per line).
    pub fn occupations(&self, w: &mut impl Write, r: &OccupationResults) -> io::Result<()> {
        match self {
            Renderer::Human(style) => human::occupations(w, r, *style),
            Renderer::Json => json::occupations(w, r),
        }
    }

    /// One posting's mapping.
    pub fn map(&self, w: &mut impl Write, r: &MapResult) -> io::Result<()> {
        match self {
            Renderer::Human(style) => human::map(w, r, *style),
            Renderer::Json => json::line(w, r),
        }
    }

    /// One occupation's framework.
    pub fn show(&self, w: &mut impl Write, v: &OccupationView) -> io::Result<()> {
        match self {
            Renderer::Human(style) => human::show(w, v, *style),
            Renderer::Json => json::line(w, v),
        }
    }

    /// The index's counts.
    pub fn stats(&self, w: &mut impl Write, s: &Stats) -> io::Result<()> {
        match self {
            Renderer::Human(_) => human::stats(w, s),
            Renderer::Json => json::line(w, s),
        }
    }

    /// A mapping evaluation; the lines it could not use go to stderr in both formats.
    pub fn eval(&self, w: &mut impl Write, r: &EvalReport) -> io::Result<()> {
        match self {
            Renderer::Human(_) => human::eval(w, r)?,
            Renderer::Json => json::line(w, r)?,
        }
        human::eval_errors(&mut io::stderr().lock(), r)
    }

    /// A search evaluation.
    pub fn search_eval(&self, w: &mut impl Write, r: &SearchEvalReport) -> io::Result<()> {
        match self {
            Renderer::Human(_) => human::search_eval(w, r),
            Renderer::Json => json::line(w, r),
        }
    }

    /// The indexing summary: for people on stderr (indexing prints no results), as JSON on
    /// `w` for programs.
    pub fn index_report(&self, w: &mut impl Write, r: &IngestReport) -> io::Result<()> {
        match self {
            Renderer::Human(_) => human::index_report(&mut io::stderr().lock(), r),
            Renderer::Json => json::line(w, r),
        }
    }
}
