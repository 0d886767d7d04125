//! The level stage of `map`: a match's level from the posting's seniority cues and, at small
//! weight, from which levels' statements the posting matches best (the evidence's mean level).
//! The same cues serve every match; the statement evidence is the match's own.

use crate::domain::level::Level;
use crate::map::seniority::{self, Cue};

/// Weight of the statement evidence when it is combined with seniority cues.
pub const W_LEVEL_EVIDENCE: f32 = 0.1;
/// How far the statement evidence's mean level is pushed away from the middle (it is a mean
/// over levels, so it stays near 2.5 unless stretched).
pub const EVIDENCE_STRETCH: f32 = 2.0;
/// Spread of the bell that turns a point on the level scale into four level scores.
pub const LEVEL_SPREAD: f32 = 0.6;

/// A match's level and the score of each level (summing to 1).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Inferred {
    pub level: Level,
    pub scores: [f32; 4],
}

/// The statement evidence's mean level (1-4), stretched away from the middle.
pub fn spread_evidence(mean: f32) -> f32 {
    (2.5 + EVIDENCE_STRETCH * (mean - 2.5)).clamp(1.0, 4.0)
}

/// The middle of the level scale (between developing, 2, and proficient, 3): the guess when
/// nothing says more.
pub const MIDDLE_LEVEL: f32 = 2.5;

/// Infers the level from the cues and the evidence's mean level (`None` without evidence).
/// Without seniority language the level is a weak guess, and the scores say so by being
/// flatter; without any signal it is the middle of the scale.
pub fn infer(cues: &[Cue], evidence_level: Option<f32>) -> Inferred {
    let priors: Vec<(f32, f32)> = evidence_level
        .map(|l| (spread_evidence(l), W_LEVEL_EVIDENCE))
        .into_iter()
        .collect();
    let point = seniority::combine(cues, &priors).unwrap_or(MIDDLE_LEVEL);
    let spread = if cues.is_empty() {
        2.0 * LEVEL_SPREAD
    } else {
        LEVEL_SPREAD
    };
    let scores = seniority::level_scores(point, spread);
    let best = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map_or(1, |(i, _)| i);
    Inferred {
        level: Level::ALL[best],
        scores,
    }
}

/// The mean level (1-4) of the statements a posting matched, each level's summed score divided
/// by its number of statements, so that a level with more statements does not win by size.
/// `None` when nothing matched.
pub fn mean_level(score_per_level: [f32; 4], statements_per_level: [usize; 4]) -> Option<f32> {
    let mut num = 0.0;
    let mut den = 0.0;
    for i in 0..4 {
        if statements_per_level[i] > 0 {
            let v = score_per_level[i] / statements_per_level[i] as f32;
            num += v * (i as f32 + 1.0);
            den += v;
        }
    }
    (den > 0.0).then(|| num / den)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seniority_language_decides_and_evidence_only_leans() {
        let senior = seniority::cues("Senior engineer, 6 years of experience", 1.0);
        let got = infer(&senior, Some(1.0));
        assert_eq!(got.level, Level::Proficient, "{got:?}");
        let junior = seniority::cues("Entry-level trainee", 1.0);
        assert_eq!(infer(&junior, Some(4.0)).level, Level::Emerging);
        assert!((got.scores.iter().sum::<f32>() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn without_cues_the_scores_are_flatter() {
        let senior = seniority::cues("Senior engineer", 1.0);
        let with = infer(&senior, None);
        let without = infer(&[], Some(3.0));
        let peak = |s: [f32; 4]| s.iter().copied().fold(0.0, f32::max);
        assert!(
            peak(without.scores) < peak(with.scores),
            "{with:?} {without:?}"
        );
        // Nothing at all: the middle of the scale.
        let none = infer(&[], None);
        assert!(matches!(none.level, Level::Developing | Level::Proficient));
    }

    #[test]
    fn the_mean_level_is_per_statement() {
        // Advanced matched as well per statement as emerging, over fewer statements.
        assert_eq!(mean_level([4.0, 0.0, 0.0, 1.0], [4, 3, 3, 1]), Some(2.5));
        assert_eq!(mean_level([0.0, 2.0, 0.0, 0.0], [3, 3, 3, 3]), Some(2.0));
        assert_eq!(mean_level([0.0; 4], [3; 4]), None);
        assert_eq!(mean_level([1.0; 4], [0; 4]), None, "no statements");
        assert_eq!(spread_evidence(3.0), 3.5);
        assert_eq!(spread_evidence(4.0), 4.0);
    }
}
