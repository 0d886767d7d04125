//! The scoring stages of `map` after the features: each candidate's score under the fitted
//! weights, its confidence (its softmax probability among all candidates), whether the answer
//! is uncertain, and then the narrowest SOC 2018 group that the close candidates share.

use super::SharedGroup;
use super::model::{self, FeatureVector};

/// The top match is uncertain when its confidence is below this…
pub const UNCERTAIN_CONFIDENCE: f32 = 0.35;
/// … or when the runner-up's probability is at least this share of the top one's.
pub const UNCERTAIN_RUNNER_UP: f32 = 0.75;
/// Most close candidates whose shared group is named.
pub const MAX_CLOSE: usize = 5;

/// Candidates ranked by score, with their confidences.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking<K> {
    /// (candidate, score), best first; ties go to the smaller key.
    pub ranked: Vec<(K, f32)>,
    /// The softmax probability of each, in the same order.
    pub confidence: Vec<f32>,
    /// The answer is uncertain (see [`is_uncertain`]).
    pub uncertain: bool,
}

/// Scores the candidates with `weights` and ranks them.
pub fn rank<K: Ord + Copy>(candidates: &[(K, FeatureVector)], weights: &[f32]) -> Ranking<K> {
    let mut ranked: Vec<(K, f32)> = candidates
        .iter()
        .map(|(k, f)| (*k, model::score(weights, f)))
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let confidence = model::softmax(&ranked.iter().map(|r| r.1).collect::<Vec<_>>());
    let uncertain = is_uncertain(&confidence);
    Ranking {
        ranked,
        confidence,
        uncertain,
    }
}

/// No candidate, a top confidence under [`UNCERTAIN_CONFIDENCE`], or a runner-up within
/// [`UNCERTAIN_RUNNER_UP`] of the top.
pub fn is_uncertain(confidence: &[f32]) -> bool {
    let p1 = confidence.first().copied().unwrap_or(0.0);
    let p2 = confidence.get(1).copied().unwrap_or(0.0);
    confidence.is_empty() || p1 < UNCERTAIN_CONFIDENCE || p2 >= UNCERTAIN_RUNNER_UP * p1
}

/// How many of the best candidates are close to the top one: those with at least half the
/// runner-up threshold's share of its probability, at most [`MAX_CLOSE`], and at least two when
/// there are two.
pub fn close_count(confidence: &[f32]) -> usize {
    let p1 = confidence.first().copied().unwrap_or(0.0);
    let close = confidence
        .iter()
        .take_while(|p| **p >= UNCERTAIN_RUNNER_UP * p1 * 0.5)
        .take(MAX_CLOSE)
        .count();
    close.max(confidence.len().min(2))
}

/// The narrowest SOC 2018 group containing every code (`None` when they share no major group,
/// or there are none).
pub fn shared_group(socs: &[&str]) -> Option<SharedGroup> {
    crate::domain::soc::narrowest_shared_group(socs).map(|g| SharedGroup {
        code: g.code.clone(),
        level: g.level,
        name: g.name.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::model::N_FEATURES;

    fn features(first: f32) -> FeatureVector {
        let mut f = [0.0; N_FEATURES];
        f[0] = first;
        f
    }

    #[test]
    fn candidates_rank_by_score_ties_by_key_and_confidences_sum_to_one() {
        let mut w = vec![0.0; N_FEATURES];
        w[0] = 10.0;
        let r = rank(
            &[(3, features(0.5)), (1, features(1.0)), (2, features(0.5))],
            &w,
        );
        let order: Vec<i32> = r.ranked.iter().map(|x| x.0).collect();
        assert_eq!(order, [1, 2, 3]);
        assert!((r.confidence.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(r.confidence[0] > 0.98 && !r.uncertain, "{r:?}");
    }

    #[test]
    fn weak_or_close_answers_are_uncertain() {
        assert!(is_uncertain(&[]));
        assert!(is_uncertain(&[0.30, 0.05]), "weak");
        assert!(is_uncertain(&[0.45, 0.40]), "close runner-up");
        assert!(!is_uncertain(&[0.80, 0.10]));
        assert!(!is_uncertain(&[1.0]));
        assert_eq!(close_count(&[0.45, 0.40, 0.15]), 2);
        assert_eq!(close_count(&[0.3, 0.3, 0.3, 0.05]), 3);
        assert_eq!(close_count(&[0.9, 0.01]), 2, "at least two");
        assert_eq!(close_count(&[1.0]), 1);
    }

    #[test]
    fn the_shared_group_is_the_narrowest_holding_every_code() {
        let g = shared_group(&["29-1141.00", "29-1141.01"]).unwrap();
        assert_eq!((g.code.as_str(), g.level.as_str()), ("29-1141", "detailed"));
        let g = shared_group(&["29-1141.00", "29-2061.00"]).unwrap();
        assert_eq!((g.code.as_str(), g.level.as_str()), ("29-0000", "major"));
        assert!(shared_group(&["29-1141.00", "53-3032.00"]).is_none());
        assert!(shared_group(&[]).is_none());
    }
}
