//! `cargo xtask fit-map`: fits the weights that `map` combines its features with, by maximum
//! likelihood of a softmax over each posting's candidates (multinomial logistic regression with
//! a small L2 penalty), on the tuning (`dev`) split only, and writes `src/map/weights.json`.
//!
//! The candidates and their features come from `Mapper::candidates`, on an index of the bundled
//! collection built in a temporary folder, with every title the dev lines were made from hidden
//! from the mapper (as `skillmap eval` hides them). Requests with a title alone and requests with
//! text get separate weights, as `map` uses them.

use std::path::Path;

use anyhow::{Context, Result};
use rayon::prelude::*;
use skillmap::map::eval::Labelled;
use skillmap::map::model::{FEATURES, FeatureVector, N_FEATURES, Weights};
use skillmap::map::{MapOptions, MapRequest, Mapper};

/// One training example: the candidates' features and which candidate is right.
struct Example {
    features: Vec<FeatureVector>,
    truth: usize,
}

/// L2 penalty on the weights (keeps them finite when a feature separates the data).
const L2: f64 = 1e-3;
/// Gradient steps (Adam).
const STEPS: usize = 1500;
const LEARNING_RATE: f64 = 0.05;

/// Mean negative log-likelihood of the examples and its gradient, plus the L2 penalty.
fn loss_and_gradient(examples: &[Example], w: &[f64; N_FEATURES]) -> (f64, [f64; N_FEATURES]) {
    let (loss, grad) = examples
        .par_iter()
        .map(|ex| {
            let scores: Vec<f64> = ex
                .features
                .iter()
                .map(|f| f.iter().zip(w).map(|(x, w)| f64::from(*x) * w).sum())
                .collect();
            let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let exps: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
            let total: f64 = exps.iter().sum();
            let loss = -(scores[ex.truth] - max - total.ln());
            let mut grad = [0.0; N_FEATURES];
            for (f, e) in ex.features.iter().zip(&exps) {
                let p = e / total;
                for (g, x) in grad.iter_mut().zip(f) {
                    *g += p * f64::from(*x);
                }
            }
            for (g, x) in grad.iter_mut().zip(&ex.features[ex.truth]) {
                *g -= f64::from(*x);
            }
            (loss, grad)
        })
        // Summed in input order, so that a re-run gives the same weights to the last bit.
        .collect::<Vec<_>>()
        .into_iter()
        .fold((0.0, [0.0; N_FEATURES]), |(l, mut g), (x, y)| {
            for (a, b) in g.iter_mut().zip(y) {
                *a += b;
            }
            (l + x, g)
        });
    let n = examples.len().max(1) as f64;
    let mut grad = grad.map(|g| g / n);
    for (g, x) in grad.iter_mut().zip(w) {
        *g += 2.0 * L2 * x;
    }
    let penalty: f64 = w.iter().map(|x| L2 * x * x).sum();
    (loss / n + penalty, grad)
}

/// Fits the weights by Adam from `start`.
fn fit(examples: &[Example], start: &[f32]) -> ([f64; N_FEATURES], f64) {
    let mut w = [0.0f64; N_FEATURES];
    for (x, s) in w.iter_mut().zip(start) {
        *x = f64::from(*s);
    }
    let (mut m, mut v) = ([0.0f64; N_FEATURES], [0.0f64; N_FEATURES]);
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let mut loss = 0.0;
    for t in 1..=STEPS {
        let (l, g) = loss_and_gradient(examples, &w);
        loss = l;
        for i in 0..N_FEATURES {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            v[i] = b2 * v[i] + (1.0 - b2) * g[i] * g[i];
            let mh = m[i] / (1.0 - b1.powi(t as i32));
            let vh = v[i] / (1.0 - b2.powi(t as i32));
            w[i] -= LEARNING_RATE * mh / (vh.sqrt() + eps);
        }
    }
    (w, loss)
}

/// Reads the labelled lines of the tuning files.
fn read_lines(files: &[&Path]) -> Result<Vec<Labelled>> {
    let mut out = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read {}", f.display()))?;
        for (i, l) in text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
        {
            out.push(
                serde_json::from_str(l)
                    .with_context(|| format!("{} line {}", f.display(), i + 1))?,
            );
        }
    }
    Ok(out)
}

/// Builds an index of `data` in a temporary folder, fits on `files`, and writes `out`.
/// Indexes the bundled collection into `dir` with one writer thread (the same segments every
/// run, so the same candidates in the same order and the same results to the last bit).
pub fn index_bundled(data: &Path, dir: &Path) -> Result<skillmap::index::engine::Engine> {
    let opts = skillmap::index::ingest::IngestConfig {
        index_dir: dir.to_path_buf(),
        paths: vec![data.to_path_buf()],
        threads: 1,
        memory_bytes: 200_000_000,
        strict: true,
        rebuild: true,
        max_file_bytes: 64 << 20,
        ..Default::default()
    };
    let report = skillmap::index::ingest::ingest(&opts, &indicatif::ProgressBar::hidden())?;
    anyhow::ensure!(
        report.committed,
        "the bundled collection did not index cleanly"
    );
    Ok(skillmap::index::engine::Engine::open(dir)?)
}

pub fn run(data: &Path, files: &[&Path], out: &Path, priors: &[f32]) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let engine = index_bundled(data, &tmp.path().join("index"))?;
    let lines = read_lines(files)?;
    let exclude = unseen(&lines);
    // The title models' prior is chosen on a grid, the weights fitted for each; the pair with
    // the lowest log-loss over all dev lines wins.
    let mut best: Option<(f64, Weights)> = None;
    for &prior in priors {
        let (loss, weights) = fit_with_prior(&engine, &lines, &exclude, prior, priors, files)?;
        eprintln!("title model prior {prior}: mean log-loss {loss:.4}");
        if best.as_ref().is_none_or(|(l, _)| loss < *l) {
            best = Some((loss, weights));
        }
    }
    let (_, fitted) = best.context("no prior was tried")?;
    let mut json = serde_json::to_string_pretty(&fitted)?;
    json.push('\n');
    std::fs::write(out, json).with_context(|| format!("cannot write {}", out.display()))?;
    eprintln!(
        "wrote {} (title model prior {})",
        out.display(),
        fitted.title_model_prior
    );
    Ok(())
}

/// The map request of a labelled line.
fn request(l: &Labelled) -> MapRequest {
    MapRequest {
        text: l.text.clone(),
        title: l.title.clone(),
        top: 5,
    }
}

/// The titles the lines were made from, as the mapper keys them (hidden from it).
fn unseen(lines: &[Labelled]) -> std::collections::HashSet<String> {
    lines
        .iter()
        .filter_map(|l| l.unseen_title.as_deref())
        .map(skillmap::map::titles::identity)
        .collect()
}

/// Title-model priors tried by default.
pub const PRIORS: [f32; 5] = [2.0, 5.0, 10.0, 20.0, 40.0];

/// Fits the weights for one title-model prior; returns the mean log-loss over all lines and the
/// weights.
fn fit_with_prior(
    engine: &skillmap::index::engine::Engine,
    lines: &[Labelled],
    exclude: &std::collections::HashSet<String>,
    prior: f32,
    priors: &[f32],
    files: &[&Path],
) -> Result<(f64, Weights)> {
    let mapper = Mapper::with_options(
        engine,
        &MapOptions {
            exclude_titles: exclude.clone(),
            title_model_prior: Some(prior),
        },
    )?;
    let rows: Vec<(bool, Option<Example>)> = lines
        .par_iter()
        .map(|l| {
            let req = request(l);
            let Ok((title_only, candidates)) = mapper.candidates(&req) else {
                return (false, None);
            };
            let truth = candidates.iter().position(|(soc, _)| *soc == l.soc);
            let example = truth.map(|truth| Example {
                features: candidates.into_iter().map(|(_, f)| f).collect(),
                truth,
            });
            (title_only, example)
        })
        .collect();
    let mut fitted = Weights {
        features: FEATURES.iter().map(|s| s.to_string()).collect(),
        posting: Vec::new(),
        title_only: Vec::new(),
        title_model_prior: prior,
        provenance: String::new(),
    };
    let mut notes = Vec::new();
    let mut total_loss = 0.0;
    for title_only in [false, true] {
        let examples: Vec<Example> = rows
            .iter()
            .filter(|(t, _)| *t == title_only)
            .filter_map(|(_, e)| e.as_ref())
            .map(|e| Example {
                features: e.features.clone(),
                truth: e.truth,
            })
            .collect();
        let missed = rows
            .iter()
            .filter(|(t, e)| *t == title_only && e.is_none())
            .count();
        // A fixed start (every weight 1), so that a re-run does not depend on the weights the
        // binary was built with.
        let (w, loss) = fit(&examples, &[1.0; N_FEATURES]);
        let w: Vec<f32> = w
            .iter()
            .map(|x| (*x * 1000.0).round() as f32 / 1000.0)
            .collect();
        let kind = if title_only { "title_only" } else { "posting" };
        eprintln!(
            "{kind}: {} examples ({missed} without the right occupation among the candidates), loss {loss:.4}",
            examples.len()
        );
        for (name, x) in FEATURES.iter().zip(&w) {
            eprintln!("  {name:<18} {x:>8.3}");
        }
        notes.push(format!(
            "{kind}: {} examples, mean log-loss {loss:.4}",
            examples.len()
        ));
        total_loss += loss * examples.len() as f64;
        if title_only {
            fitted.title_only = w;
        } else {
            fitted.posting = w;
        }
    }
    fitted.provenance = format!(
        "fitted by `cargo xtask fit-map` (softmax regression over each line's candidates, L2 {L2}, {STEPS} Adam steps; title model prior {prior} chosen from {priors:?} by log-loss) on {} with their unseen titles hidden; {}",
        files
            .iter()
            .map(|f| f
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned())
            .collect::<Vec<_>>()
            .join(" and "),
        notes.join("; ")
    );
    let n = rows.iter().filter(|(_, e)| e.is_some()).count().max(1);
    Ok((total_loss / n as f64, fitted))
}

/// `cargo xtask dump-candidates`: each labelled line's best candidates under `map`'s lexical
/// features alone (the semantic ones weigh nothing), with their scores, as JSON Lines, for the
/// reference measurement of the semantic features (xtask/distill/reference.py). The mapper
/// hides every title the file's lines were made from, as `eval` does; each file is mapped on
/// its own, so each hides only its own titles.
pub fn dump_candidates(data: &Path, file: &Path, top: usize, out: &Path) -> Result<()> {
    let tmp = tempfile::tempdir()?;
    let engine = index_bundled(data, &tmp.path().join("index"))?;
    let lines = read_lines(&[file])?;
    let exclude = unseen(&lines);
    let mapper = Mapper::with_options(
        &engine,
        &MapOptions {
            exclude_titles: exclude,
            title_model_prior: None,
        },
    )?;
    let weights = skillmap::map::model::weights();
    let semantic: Vec<usize> = FEATURES
        .iter()
        .enumerate()
        .filter(|(_, f)| f.starts_with("semantic_"))
        .map(|(i, _)| i)
        .collect();
    let rows: Vec<String> = lines
        .par_iter()
        .map(|l| {
            let req = request(l);
            let Ok((title_only, candidates)) = mapper.candidates(&req) else {
                return String::new();
            };
            let mut w = weights.for_request(title_only).to_vec();
            for &i in &semantic {
                w[i] = 0.0;
            }
            let mut scored: Vec<(f32, String)> = candidates
                .into_iter()
                .map(|(soc, f)| (skillmap::map::model::score(&w, &f), soc))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            scored.truncate(top);
            serde_json::json!({
                "id": l.id,
                "kind": l.kind,
                "soc": l.soc,
                "title": l.title,
                "unseen_title": l.unseen_title,
                "text": l.text,
                "candidates": scored.iter().map(|(s, soc)| serde_json::json!([soc, s])).collect::<Vec<_>>(),
            })
            .to_string()
        })
        .collect();
    let mut text = String::new();
    for r in rows.iter().filter(|r| !r.is_empty()) {
        text.push_str(r);
        text.push('\n');
    }
    std::fs::write(out, text).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(())
}
