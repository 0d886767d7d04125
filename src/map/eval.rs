//! `skillmap eval`: accuracy of `map` on labelled postings, by SOC depth, level and confidence.

use serde::{Deserialize, Serialize};

use crate::domain::level::Level;
use crate::map::{MapRequest, MapResult, Mapper};

/// One labelled line as read from the file.
#[derive(Debug, Clone, Deserialize)]
pub struct Labelled {
    #[serde(default)]
    pub id: Option<serde_json::Value>,
    pub text: String,
    #[serde(default)]
    pub title: Option<String>,
    pub soc: String,
    #[serde(default)]
    pub level: Option<Level>,
    /// A known title this line was made from (an O*NET alternate title held out for the test):
    /// `eval` maps the whole file with every such title unknown to the mapper.
    #[serde(default)]
    pub unseen_title: Option<String>,
    /// What kind of input the line is (`title`, `board-title`, `posting`, `duties`): `eval`
    /// reports each kind on its own as well.
    #[serde(default)]
    pub kind: Option<String>,
}

/// The `unseen_title`s of a labelled file, as the mapper's title index keys them. Lines that do
/// not parse are left to [`run`], which reports them.
pub fn unseen_titles(text: &str) -> std::collections::HashSet<String> {
    text.lines()
        .filter_map(|l| serde_json::from_str::<Labelled>(l).ok()?.unseen_title)
        .map(|t| crate::map::titles::identity(&t))
        .filter(|t| !t.is_empty())
        .collect()
}

/// Top-1 and top-5 accuracy at one depth of the SOC code.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Accuracy {
    pub top1: f64,
    pub top5: f64,
}

/// One confidence bin.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CalibrationBin {
    pub from: f64,
    pub to: f64,
    pub n: usize,
    pub mean_confidence: f64,
    pub accuracy: f64,
}

/// Accuracy on the lines of one kind.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KindReport {
    pub kind: String,
    pub n: usize,
    pub onet_soc: Accuracy,
    pub soc6: Accuracy,
    pub major: Accuracy,
}

/// What `eval` reports.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvalReport {
    /// Postings evaluated (lines that parsed and mapped).
    pub n: usize,
    /// Lines that could not be read or mapped.
    pub errors: Vec<String>,
    /// Full O*NET-SOC code (`33-3051.04`).
    pub onet_soc: Accuracy,
    /// 6-digit SOC (`33-3051`, the first 7 characters).
    pub soc6: Accuracy,
    /// Major group (`33`).
    pub major: Accuracy,
    /// Postings with a level label.
    pub level_n: usize,
    pub level_exact: f64,
    pub level_within_one: f64,
    /// Rows: true level; columns: predicted level (emerging … advanced).
    pub level_confusion: [[usize; 4]; 4],
    /// Share of answers marked uncertain.
    pub uncertain_share: f64,
    /// Exact top-1 accuracy of the answers not marked uncertain.
    pub certain_top1: f64,
    pub calibration: Vec<CalibrationBin>,
    /// The same accuracies per `kind` of line, when lines say their kind.
    pub by_kind: Vec<KindReport>,
}

/// Maps every labelled line of `text` (in parallel) and scores the answers.
pub fn run(mapper: &Mapper, text: &str) -> EvalReport {
    use rayon::prelude::*;
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .collect();
    let answers: Vec<std::result::Result<(Labelled, MapResult), String>> = lines
        .par_iter()
        .map(|(i, l)| {
            let label: Labelled =
                serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1))?;
            // A label that no answer can equal would count as a miss, not as the mistake it is.
            if !crate::domain::soc::is_valid(&label.soc) {
                return Err(format!(
                    "line {}: field `soc`: `{}` is not an O*NET-SOC code; expected NN-NNNN or NN-NNNN.NN",
                    i + 1,
                    label.soc
                ));
            }
            let req = MapRequest {
                text: label.text.clone(),
                title: label.title.clone(),
                top: crate::map::DEFAULT_TOP,
            };
            let result = mapper
                .map(&req)
                .map_err(|e| format!("line {}: {e}", i + 1))?;
            Ok((label, result))
        })
        .collect();
    let mut labels = Vec::new();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for a in answers {
        match a {
            Ok((l, r)) => {
                labels.push(l);
                results.push(r);
            }
            Err(e) => errors.push(e),
        }
    }
    score(&labels, &results, errors)
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// Scores results against labels. `results[i]` answers `labels[i]`.
pub fn score(labels: &[Labelled], results: &[MapResult], errors: Vec<String>) -> EvalReport {
    let n = results.len();
    let all: Vec<usize> = (0..n).collect();
    let acc = |depth: Option<usize>| accuracy(labels, results, &all, depth);
    let mut kinds: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    for (i, l) in labels.iter().enumerate() {
        if let Some(k) = &l.kind {
            kinds.entry(k).or_default().push(i);
        }
    }
    let by_kind = kinds
        .into_iter()
        .map(|(kind, lines)| KindReport {
            kind: kind.to_string(),
            n: lines.len(),
            onet_soc: accuracy(labels, results, &lines, None),
            soc6: accuracy(labels, results, &lines, Some(7)),
            major: accuracy(labels, results, &lines, Some(2)),
        })
        .collect();
    let mut confusion = [[0usize; 4]; 4];
    let mut level_n = 0;
    let mut exact = 0;
    let mut within = 0;
    for (l, r) in labels.iter().zip(results) {
        let (Some(truth), Some(top)) = (l.level, r.matches.first()) else {
            continue;
        };
        level_n += 1;
        confusion[truth.index()][top.level.index()] += 1;
        exact += usize::from(truth == top.level);
        within += usize::from(truth.index().abs_diff(top.level.index()) <= 1);
    }
    let uncertain = results.iter().filter(|r| r.uncertain).count();
    let certain: Vec<_> = labels
        .iter()
        .zip(results)
        .filter(|(_, r)| !r.uncertain)
        .collect();
    let certain_right = certain
        .iter()
        .filter(|(l, r)| hit(r, &l.soc, None, 1))
        .count();
    let mut calibration = Vec::new();
    for b in 0..10 {
        let (from, to) = (b as f64 / 10.0, (b + 1) as f64 / 10.0);
        let in_bin: Vec<_> = labels
            .iter()
            .zip(results)
            .filter(|(_, r)| {
                r.matches.first().is_some_and(|m| {
                    let c = f64::from(m.confidence);
                    c >= from && (c < to || (b == 9 && c <= to))
                })
            })
            .collect();
        if in_bin.is_empty() {
            continue;
        }
        let mean = in_bin
            .iter()
            .map(|(_, r)| f64::from(r.matches[0].confidence))
            .sum::<f64>()
            / in_bin.len() as f64;
        let right = in_bin
            .iter()
            .filter(|(l, r)| hit(r, &l.soc, None, 1))
            .count();
        calibration.push(CalibrationBin {
            from,
            to,
            n: in_bin.len(),
            mean_confidence: mean,
            accuracy: ratio(right, in_bin.len()),
        });
    }
    EvalReport {
        n,
        errors,
        onet_soc: acc(None),
        soc6: acc(Some(7)),
        major: acc(Some(2)),
        level_n,
        level_exact: ratio(exact, level_n),
        level_within_one: ratio(within, level_n),
        level_confusion: confusion,
        uncertain_share: ratio(uncertain, n),
        certain_top1: ratio(certain_right, certain.len()),
        calibration,
        by_kind,
    }
}

/// Is `truth` among the first `k` answers, compared on the first `depth` characters of the code
/// (all of it when `None`)?
fn hit(r: &MapResult, truth: &str, depth: Option<usize>, k: usize) -> bool {
    r.matches.iter().take(k).any(|m| match depth {
        None => m.soc == truth,
        Some(d) => m.soc.get(..d) == truth.get(..d),
    })
}

/// Top-1 and top-5 accuracy over the lines `which`.
fn accuracy(
    labels: &[Labelled],
    results: &[MapResult],
    which: &[usize],
    depth: Option<usize>,
) -> Accuracy {
    let share = |k: usize| {
        ratio(
            which
                .iter()
                .filter(|&&i| hit(&results[i], &labels[i].soc, depth, k))
                .count(),
            which.len(),
        )
    };
    Accuracy {
        top1: share(1),
        top5: share(5),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::level::LevelScores;
    use crate::map::{MapResult, Match};

    fn answer(socs: &[&str], level: Level, confidence: f32, uncertain: bool) -> MapResult {
        MapResult {
            matches: socs
                .iter()
                .enumerate()
                .map(|(i, s)| Match {
                    rank: i + 1,
                    soc: s.to_string(),
                    title: String::new(),
                    group: String::new(),
                    score: 1.0,
                    confidence: if i == 0 { confidence } else { 0.0 },
                    level,
                    level_scores: LevelScores::from([0.25; 4]),
                    evidence: vec![],
                    tools: vec![],
                    gap: vec![],
                })
                .collect(),
            uncertain,
            shared_group: None,
            seniority: vec![],
            truncated: false,
        }
    }

    fn label(soc: &str, level: Option<Level>) -> Labelled {
        Labelled {
            id: None,
            text: String::new(),
            title: None,
            soc: soc.into(),
            level,
            unseen_title: None,
            kind: None,
        }
    }

    /// Four postings, figures worked out by hand.
    #[test]
    fn hand_checked_figures() {
        let labels = [
            label("33-3051.04", Some(Level::Advanced)), // top-1 exact
            label("33-3051.01", Some(Level::Emerging)), // top-1 same 6-digit SOC, exact in top 5
            label("29-1141.00", None),                  // wrong major at top-1, right in top 5
            label("53-6051.00", Some(Level::Developing)), // nowhere
        ];
        let results = [
            answer(&["33-3051.04", "11-1011.00"], Level::Advanced, 0.95, false),
            answer(&["33-3051.04", "33-3051.01"], Level::Developing, 0.55, true),
            answer(&["31-1131.00", "29-1141.00"], Level::Proficient, 0.15, true),
            answer(&["11-1011.00"], Level::Advanced, 0.92, false),
        ];
        let r = score(&labels, &results, vec![]);
        assert_eq!(r.n, 4);
        assert_eq!(
            r.onet_soc,
            Accuracy {
                top1: 0.25,
                top5: 0.75
            }
        );
        assert_eq!(
            r.soc6,
            Accuracy {
                top1: 0.5,
                top5: 0.75
            }
        );
        assert_eq!(
            r.major,
            Accuracy {
                top1: 0.5,
                top5: 0.75
            }
        );
        assert_eq!(r.level_n, 3);
        assert!((r.level_exact - 1.0 / 3.0).abs() < 1e-12);
        // Truth emerging vs developing: within one; developing vs advanced: two apart.
        assert!((r.level_within_one - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(r.level_confusion[3][3], 1);
        assert_eq!(r.level_confusion[0][1], 1);
        assert_eq!(r.level_confusion[1][3], 1);
        assert_eq!(r.uncertain_share, 0.5);
        assert_eq!(r.certain_top1, 0.5);
        let bins: Vec<(f64, usize, f64)> = r
            .calibration
            .iter()
            .map(|b| (b.from, b.n, b.accuracy))
            .collect();
        assert_eq!(bins, [(0.1, 1, 0.0), (0.5, 1, 0.0), (0.9, 2, 0.5)]);
    }
}
