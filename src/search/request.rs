//! The one search request that every front end builds (the command line, the HTTP API, the
//! relevance runs), and the one place where its limits are checked.
//!
//! Front ends parse their own syntax (clap arguments, a query string) with the value parsers
//! here, so that `--job-zone 6` and `job_zone=6` fail with the same rule, and then call
//! [`SearchRequest::validated`]. The search functions validate again on entry, so a request
//! built by hand in a library call cannot skip a limit.

use crate::domain::level::Level;
use crate::domain::soc;
use crate::error::{Error, Result};

/// Hits shown when a request does not say: a screen's worth.
pub const DEFAULT_LIMIT: usize = 10;
/// Most results one request may ask for: more is an export, not a search.
pub const MAX_LIMIT: usize = 1_000;
/// Deepest page (offset + limit): the first tier keeps this many candidates in memory.
pub const MAX_DEPTH: usize = 100_000;
pub use crate::domain::JOB_ZONES;
/// The share of the embedding's cosine when hybrid ranking is asked for without a ratio: the
/// best on the tuning half of the judged queries (`skillmap eval-search --semantic-ratio`;
/// README, "Search relevance").
pub const DEFAULT_SEMANTIC_RATIO: f32 = 0.3;

/// A search: the query text, its filters, the page and how to rank.
#[derive(Debug, Clone, Default)]
pub struct SearchRequest {
    pub query: String,
    /// SOC prefixes or group codes (normalised to prefixes by [`SearchRequest::validated`]).
    pub soc: Vec<String>,
    pub levels: Vec<Level>,
    pub job_zones: Vec<u8>,
    pub limit: usize,
    pub offset: usize,
    pub explain: bool,
    /// Count every match (exact totals cost a pass over all matches; top-k alone is faster).
    pub count: bool,
    /// Share of the static embedding's cosine in the ranking, 0..=1 (0: BM25 alone; see
    /// `search::hybrid`).
    pub semantic_ratio: f32,
}

impl SearchRequest {
    /// A request for the top [`DEFAULT_LIMIT`] hits of `query`, unfiltered.
    pub fn new(query: impl Into<String>) -> Self {
        SearchRequest {
            query: query.into(),
            limit: DEFAULT_LIMIT,
            ..Default::default()
        }
    }

    /// The request with every limit checked and its SOC filters normalised to the prefixes the
    /// index holds; the first broken rule is the error.
    pub fn validated(mut self) -> Result<SearchRequest> {
        if self.limit > MAX_LIMIT {
            return Err(Error::Invalid(format!(
                "limit {} is over the maximum of {MAX_LIMIT}",
                self.limit
            )));
        }
        if self.offset.saturating_add(self.limit) > MAX_DEPTH {
            return Err(Error::Invalid(format!(
                "offset + limit is over the maximum depth of {MAX_DEPTH}"
            )));
        }
        if let Some(z) = self.job_zones.iter().find(|z| !JOB_ZONES.contains(z)) {
            return Err(Error::Invalid(job_zone_error(&z.to_string())));
        }
        if !(0.0..=1.0).contains(&self.semantic_ratio) {
            return Err(Error::Invalid(format!(
                "semantic ratio must be between 0 and 1, got {}",
                self.semantic_ratio
            )));
        }
        self.soc = self
            .soc
            .iter()
            .map(|s| soc::normalize_filter(s).map_err(Error::Invalid))
            .collect::<Result<_>>()?;
        Ok(self)
    }
}

/// The semantic ratio of a request: `hybrid` asks for the embedding, with `ratio` or the
/// default; a ratio without `hybrid` is a mistake worth saying (it would change nothing).
pub fn semantic_ratio(hybrid: bool, ratio: Option<f32>) -> Result<f32, String> {
    match (hybrid, ratio) {
        (true, r) => Ok(r.unwrap_or(DEFAULT_SEMANTIC_RATIO)),
        (false, None) => Ok(0.0),
        (false, Some(_)) => Err("a semantic ratio needs hybrid ranking".into()),
    }
}

fn job_zone_error(given: &str) -> String {
    format!(
        "job zone must be {} to {}, not `{given}`",
        JOB_ZONES.start(),
        JOB_ZONES.end()
    )
}

/// Parses one job zone (`1` to `5`).
pub fn parse_job_zone(s: &str) -> Result<u8, String> {
    match s.trim().parse::<u8>() {
        Ok(z) if JOB_ZONES.contains(&z) => Ok(z),
        _ => Err(job_zone_error(s)),
    }
}

/// Parses a semantic ratio (a number from 0 to 1).
pub fn parse_semantic_ratio(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
        _ => Err(format!(
            "semantic ratio must be a number from 0 to 1, not `{s}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> SearchRequest {
        SearchRequest::new("welding")
    }

    #[test]
    fn a_plain_request_is_valid_and_filters_become_prefixes() {
        let r = SearchRequest {
            soc: vec!["33-3000".into(), " 53-6051 ".into()],
            ..req()
        }
        .validated()
        .unwrap();
        assert_eq!(r.soc, ["33-3", "53-6051"]);
        assert_eq!(r.limit, DEFAULT_LIMIT);
    }

    #[test]
    fn every_limit_is_checked_with_a_message_naming_it() {
        let bad = |r: SearchRequest| r.validated().unwrap_err().to_string();
        assert!(
            bad(SearchRequest {
                limit: MAX_LIMIT + 1,
                ..req()
            })
            .contains("limit")
        );
        let deep = SearchRequest {
            offset: MAX_DEPTH,
            limit: 1,
            ..req()
        };
        assert!(bad(deep).contains("depth"));
        let huge = SearchRequest {
            offset: usize::MAX,
            limit: 10,
            ..req()
        };
        assert!(bad(huge).contains("depth"), "no overflow");
        assert!(
            bad(SearchRequest {
                job_zones: vec![6],
                ..req()
            })
            .contains("job zone")
        );
        assert!(
            bad(SearchRequest {
                job_zones: vec![0],
                ..req()
            })
            .contains("job zone")
        );
        assert!(
            bad(SearchRequest {
                semantic_ratio: 1.5,
                ..req()
            })
            .contains("ratio")
        );
        let nan = SearchRequest {
            semantic_ratio: f32::NAN,
            ..req()
        };
        assert!(bad(nan).contains("ratio"));
        assert!(
            bad(SearchRequest {
                soc: vec!["3".into()],
                ..req()
            })
            .contains("SOC")
        );
        let edge = SearchRequest {
            limit: MAX_LIMIT,
            offset: MAX_DEPTH - MAX_LIMIT,
            ..req()
        };
        assert!(edge.validated().is_ok());
    }

    #[test]
    fn value_parsers_share_the_rules() {
        assert_eq!(parse_job_zone("3"), Ok(3));
        assert_eq!(parse_job_zone(" 5 "), Ok(5));
        for bad in ["0", "6", "x", "", "-1", "300"] {
            assert!(parse_job_zone(bad).unwrap_err().contains("1 to 5"), "{bad}");
        }
        assert_eq!(parse_semantic_ratio("0.25"), Ok(0.25));
        for bad in ["-0.1", "1.01", "NaN", "x", ""] {
            assert!(parse_semantic_ratio(bad).is_err(), "{bad}");
        }
        assert_eq!(semantic_ratio(false, None), Ok(0.0));
        assert_eq!(semantic_ratio(true, None), Ok(DEFAULT_SEMANTIC_RATIO));
        assert_eq!(semantic_ratio(true, Some(0.6)), Ok(0.6));
        assert!(semantic_ratio(false, Some(0.6)).is_err());
    }
}
