//! Maintainers' generators for skillmap, run as `cargo xtask …`: the bundled sample collection,
//! the mapping dev set and benchmark corpora, all from the O*NET and SOC tables copied into
//! `data/source/`. Nothing here ships in the `skillmap` binary.

mod corpus;
mod evalset;
mod fit;
mod sample;
mod tune;
mod tune_occupations;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The repository's data folder, so that the defaults hold from any working directory.
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data");
/// Where the copied source tables live.
const SOURCE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../data/source");

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "skillmap maintainers' generators")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the bundled sample collection (data/frameworks) from the O*NET tables.
    GenSample(GenArgs),
    /// Write the mapping dev set (data/eval) from held-back task statements.
    GenEval(GenArgs),
    /// Write a deterministic benchmark corpus of N exports.
    GenCorpus(GenCorpusArgs),
    /// Fit map's feature weights on the tuning split (data/eval/dev*.jsonl) and write
    /// src/map/weights.json.
    FitMap(FitArgs),
    /// Choose statement search's ranking weights on the tuning half of data/relevance/ (grid
    /// search over nDCG@10, the simplest point within one standard error of the best); prints
    /// the grid's best points and the choice.
    TuneSearch(TuneArgs),
    /// Choose occupation ranking's weights (levels reached, statements matched, titles and
    /// tools) on the tuning half of data/relevance/occupation-qrels.txt.
    TuneOccupations,
    /// Write each labelled line's best candidates under map's lexical features alone, as JSON
    /// Lines (for xtask/distill/reference.py).
    DumpCandidates(DumpArgs),
    /// Measure on the held-out splits how much the static table keeps of the transformer: the
    /// same semantic re-ranking of map's top 50, with each (xtask/distill/reference.py).
    SemanticReference,
    /// Rebuild models/ (the static embedding table) by distilling all-MiniLM-L6-v2 from its
    /// PyPI wheel in a temporary Python environment (xtask/distill/).
    Distill,
}

#[derive(Debug, Args)]
struct TuneArgs {
    /// Also write the best grid points' rankings of every query as TREC runs into this folder
    /// (for pooling new judgments).
    #[arg(long, value_name = "DIR")]
    pool_runs: Option<PathBuf>,
    /// How many of the best grid points to write with --pool-runs.
    #[arg(long, default_value_t = 5)]
    pool_k: usize,
    /// How many of the best grid points to print.
    #[arg(long, default_value_t = 15)]
    show: usize,
}

#[derive(Debug, Args)]
struct DumpArgs {
    /// Labelled lines (data/eval/*.jsonl).
    file: PathBuf,
    /// Output JSON Lines.
    #[arg(long)]
    out: PathBuf,
    /// Candidates per line.
    #[arg(long, default_value_t = 50)]
    top: usize,
}

#[derive(Debug, Args)]
struct FitArgs {
    /// Title-model priors to try (comma-separated); the one with the lowest log-loss is kept.
    #[arg(long, value_delimiter = ',', default_values_t = fit::PRIORS)]
    priors: Vec<f32>,
}

#[derive(Debug, Args)]
struct GenArgs {
    /// Folder with onet/, soc/ and exports/ (the copied source tables).
    #[arg(long, value_name = "DIR", default_value = SOURCE)]
    source: PathBuf,
    /// Folder to write into [default: data for gen-sample, data/eval for gen-eval].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct GenCorpusArgs {
    /// Folder with onet/ and soc/ tables.
    #[arg(long, value_name = "DIR", default_value = SOURCE)]
    source: PathBuf,
    /// Number of exports (40 statements each).
    #[arg(long, value_name = "N")]
    exports: usize,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output folder: exports/ (one file each) and/or exports.jsonl.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Do not write one file per export.
    #[arg(long)]
    no_files: bool,
    /// Do not write exports.jsonl.
    #[arg(long)]
    no_jsonl: bool,
}

/// Runs xtask/distill/run.sh with these arguments.
fn distill(args: &[&str]) -> anyhow::Result<()> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/distill/run.sh");
    let status = std::process::Command::new("bash")
        .arg(script)
        .args(args)
        .status()?;
    anyhow::ensure!(status.success(), "{script} failed ({status})");
    Ok(())
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::DumpCandidates(args) => {
            fit::dump_candidates(DATA.as_ref(), &args.file, args.top, &args.out)?;
        }
        Command::Distill => distill(&["distill"])?,
        Command::SemanticReference => {
            // Each split's candidates under the lexical features alone, then the re-ranking.
            let tmp = tempfile::tempdir()?;
            for split in ["dev", "test", "dev-titles", "test-titles"] {
                let file = PathBuf::from(DATA)
                    .join("eval")
                    .join(format!("{split}.jsonl"));
                let out = tmp.path().join(format!("{split}.jsonl"));
                fit::dump_candidates(DATA.as_ref(), &file, 50, &out)?;
            }
            distill(&["reference", &tmp.path().display().to_string()])?;
        }
        Command::GenSample(args) => {
            let out = args.out.unwrap_or_else(|| DATA.into());
            let written = sample::write_collection(&args.source, &out)?;
            eprintln!(
                "wrote {} files (exports in frameworks/, tables in tables/) into {}",
                written.len(),
                out.display()
            );
        }
        Command::GenEval(args) => {
            let out = args.out.unwrap_or_else(|| PathBuf::from(DATA).join("eval"));
            let (dev, test) = evalset::write(&args.source, &out)?;
            eprintln!(
                "wrote {dev} dev and {test} test postings into {}",
                out.display()
            );
        }
        Command::GenCorpus(args) => {
            let opts = corpus::CorpusOptions {
                exports: args.exports,
                seed: args.seed,
                out: args.out.clone(),
                files: !args.no_files,
                jsonl: !args.no_jsonl,
            };
            let n = corpus::generate_from(&args.source, &opts)?;
            eprintln!(
                "wrote {n} exports ({} statements) into {}",
                n * 40,
                args.out.display()
            );
        }
        Command::FitMap(args) => {
            let data = PathBuf::from(DATA);
            let dev = data.join("eval/dev.jsonl");
            let dev_titles = data.join("eval/dev-titles.jsonl");
            let out = PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../src/map/weights.json"
            ));
            fit::run(&data, &[&dev, &dev_titles], &out, &args.priors)?;
        }
        Command::TuneOccupations => tune_occupations_report()?,
        Command::TuneSearch(args) => {
            let mut points =
                tune::run(&PathBuf::from(DATA), args.pool_runs.as_deref(), args.pool_k)?;
            let best = tune::best(&points).cloned();
            let chosen = tune::choose(&points).cloned();
            points.sort_by(|a, b| b.ndcg10.total_cmp(&a.ndcg10));
            println!("title  alt-titles  phrase  slop  nDCG@10  P@10   (tuning half)");
            let baseline = points.iter().find(|p| {
                p.ranking.title == 0.0 && p.ranking.alt_titles == 0.0 && p.ranking.phrase == 0.0
            });
            for p in points.iter().take(args.show).chain(baseline) {
                let r = &p.ranking;
                println!(
                    "{:5.2}  {:10.2}  {:6.2}  {:4}  {:7.4}  {:5.3}",
                    r.title, r.alt_titles, r.phrase, r.slop, p.ndcg10, p.p10
                );
            }
            if let (Some(b), Some(c)) = (best, chosen) {
                println!(
                    "best: {:?} (nDCG@10 {:.4}); standard error of its difference to the choice: {:.4}",
                    b.ranking,
                    b.ndcg10,
                    tune::standard_error(&b, &c)
                );
                println!(
                    "chosen (the simplest within one standard error of the best): {:?} (nDCG@10 {:.4} on the tuning half)",
                    c.ranking, c.ndcg10
                );
            }
        }
    }
    Ok(())
}

/// `tune-occupations`: the grid, best first, and the choice.
fn tune_occupations_report() -> anyhow::Result<()> {
    let mut points = tune_occupations::run(&PathBuf::from(DATA))?;
    let chosen = tune_occupations::choose(&points).cloned();
    points.sort_by(|a, b| b.ndcg10.total_cmp(&a.ndcg10));
    println!("levels  matches  named  title  nDCG@10  P@10   (tuning half)");
    for p in &points {
        let w = &p.weights;
        println!(
            "{:6.2}  {:7.2}  {:5.2}  {:5.2}  {:7.4}  {:5.3}",
            w.levels, w.matches, w.named, w.title, p.ndcg10, p.p10
        );
    }
    if let (Some(b), Some(c)) = (tune_occupations::best(&points), chosen) {
        println!(
            "best: {:?} (nDCG@10 {:.4}); standard error of its difference to the choice: {:.4}",
            b.weights,
            b.ndcg10,
            tune::error_of(&b.per_query, &c.per_query)
        );
        println!(
            "chosen (the shipped weights if within one standard error of the best, else the simplest that is): {:?} (nDCG@10 {:.4} on the tuning half)",
            c.weights, c.ndcg10
        );
    }
    Ok(())
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
