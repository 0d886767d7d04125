//! The fitted scoring model of `map`: which features describe a candidate occupation, the
//! weights that combine them (fitted by `cargo xtask fit-map`, stored in `weights.json`), and
//! the softmax that turns the combined scores into calibrated confidences.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

/// The features of a candidate occupation, each in 0..=1.
pub const FEATURES: [&str; 14] = [
    // BM25 of the posting's terms with the occupation's statements as one document (÷ best).
    "profile",
    // BM25 of the terms against the framework's contextCovered description (÷ best).
    "description",
    // Share of the posting title's words (by IDF over titles) in the occupation's own title.
    "title_words",
    // Share of the occupation's own title words (by IDF) that the posting's text holds.
    "body_title",
    // Nearest known title (own or alternate) by word and character n-grams, head noun, sharing.
    "title_similarity",
    // The occupation's share of the ten nearest titles' similarity.
    "title_votes",
    // One of the occupation's titles is the posting's title word for word (÷ √ sharers).
    "title_exact",
    // Posterior of the occupation under smoothed unigram models of each occupation's titles.
    "title_model",
    // The posting's words that name the occupation's tools, by their specificity (÷ best).
    "tools",
    // The major group's evidence: sum of its best three profiles (÷ best group).
    "group_profile",
    // The major group's evidence from title similarity (÷ best group).
    "group_title",
    // BM25 of the posting's words with each occupation's titles as one document (÷ best).
    "title_vocabulary",
    // Static embedding: mean cosine of the posting with the occupation's best three statements.
    "semantic_statements",
    // Static embedding: best cosine of the posting's title with the occupation's titles.
    "semantic_title",
];

/// Number of features.
pub const N_FEATURES: usize = FEATURES.len();

/// Indices into a [`FeatureVector`], one per name in [`FEATURES`] (a test holds them equal), so
/// that code names the feature it reads instead of its position.
pub mod feature {
    pub const PROFILE: usize = 0;
    pub const DESCRIPTION: usize = 1;
    pub const TITLE_WORDS: usize = 2;
    pub const BODY_TITLE: usize = 3;
    pub const TITLE_SIMILARITY: usize = 4;
    pub const TITLE_VOTES: usize = 5;
    pub const TITLE_EXACT: usize = 6;
    pub const TITLE_MODEL: usize = 7;
    pub const TOOLS: usize = 8;
    pub const GROUP_PROFILE: usize = 9;
    pub const GROUP_TITLE: usize = 10;
    pub const TITLE_VOCABULARY: usize = 11;
    pub const SEMANTIC_STATEMENTS: usize = 12;
    pub const SEMANTIC_TITLE: usize = 13;
}

/// A candidate's feature values, in [`FEATURES`] order.
pub type FeatureVector = [f32; N_FEATURES];

/// Weights for the two kinds of request: a posting with text, or a job title alone (whose
/// words, read as content, mostly find the helpers and supervisors whose statements name it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Weights {
    /// Feature names, in order; they must be [`FEATURES`].
    pub features: Vec<String>,
    pub posting: Vec<f32>,
    pub title_only: Vec<f32>,
    /// Dirichlet prior of the title language models (see `titles::TitleIndex::likelihood`).
    pub title_model_prior: f32,
    /// How the weights were made (command, data, held-out figures), for people.
    #[serde(default)]
    pub provenance: String,
}

impl Weights {
    /// Checks that the weights fit the features.
    pub fn check(&self) -> Result<(), String> {
        if self.features != FEATURES {
            return Err(format!(
                "the weights are for features {:?}, not {:?}",
                self.features, FEATURES
            ));
        }
        if self.posting.len() != N_FEATURES || self.title_only.len() != N_FEATURES {
            return Err("one weight per feature expected".into());
        }
        Ok(())
    }

    /// The weights for a request.
    pub fn for_request(&self, title_only: bool) -> &[f32] {
        if title_only {
            &self.title_only
        } else {
            &self.posting
        }
    }
}

/// The weights compiled into the binary (`src/map/weights.json`).
pub fn weights() -> &'static Weights {
    static W: OnceLock<Weights> = OnceLock::new();
    W.get_or_init(|| {
        let w: Weights = serde_json::from_str(include_str!("weights.json"))
            .expect("src/map/weights.json parses (checked by a unit test)");
        w.check()
            .expect("src/map/weights.json fits the features (checked by a unit test)");
        w
    })
}

/// A candidate's score: the weighted sum of its features (a logit).
pub fn score(weights: &[f32], f: &FeatureVector) -> f32 {
    weights.iter().zip(f).map(|(w, x)| w * x).sum()
}

/// Softmax probabilities of scores (stable for any range).
pub fn softmax(scores: &[f32]) -> Vec<f32> {
    let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let exps: Vec<f32> = scores.iter().map(|s| (s - max).exp()).collect();
    let total: f32 = exps.iter().sum::<f32>().max(f32::MIN_POSITIVE);
    exps.into_iter().map(|e| e / total).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_indices_name_their_features() {
        let named = [
            (feature::PROFILE, "profile"),
            (feature::DESCRIPTION, "description"),
            (feature::TITLE_WORDS, "title_words"),
            (feature::BODY_TITLE, "body_title"),
            (feature::TITLE_SIMILARITY, "title_similarity"),
            (feature::TITLE_VOTES, "title_votes"),
            (feature::TITLE_EXACT, "title_exact"),
            (feature::TITLE_MODEL, "title_model"),
            (feature::TOOLS, "tools"),
            (feature::GROUP_PROFILE, "group_profile"),
            (feature::GROUP_TITLE, "group_title"),
            (feature::TITLE_VOCABULARY, "title_vocabulary"),
            (feature::SEMANTIC_STATEMENTS, "semantic_statements"),
            (feature::SEMANTIC_TITLE, "semantic_title"),
        ];
        assert_eq!(named.len(), N_FEATURES);
        for (i, name) in named {
            assert_eq!(FEATURES[i], name);
        }
    }

    #[test]
    fn bundled_weights_fit_the_features() {
        let w = weights();
        assert_eq!(w.features, FEATURES);
        assert!(w.posting.iter().chain(&w.title_only).all(|x| x.is_finite()));
    }

    #[test]
    fn softmax_sums_to_one_and_keeps_order() {
        let p = softmax(&[2.0, 1.0, -30.0, 9.0]);
        assert!(
            softmax(&[1e30, 0.0])[0] > 0.99,
            "large scores do not overflow"
        );
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        assert!(p[3] > p[0] && p[0] > p[1] && p[1] > p[2]);
        assert!(softmax(&[]).is_empty());
    }
}
