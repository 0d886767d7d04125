//! The query string of `GET /api/search`, parsed into the library's validated request.

use crate::search::{SearchRequest, request};

use super::config::ServeConfig;
use super::error::ApiError;

/// The query string of `/api/search`, parsed into the same validated [`SearchRequest`] as the
/// command line's (with its value parsers), plus whether occupations are ranked. The service's
/// own limits (query length, the operator's `--max-limit`) are checked here.
pub(super) fn parse_search_params(
    raw: Option<&str>,
    config: &ServeConfig,
) -> Result<(SearchRequest, bool), ApiError> {
    let mut req = SearchRequest {
        count: true,
        ..SearchRequest::new("")
    };
    let (mut by_occupation, mut hybrid, mut ratio) = (false, false, None);
    let bad = |k: &str, e: String| ApiError::BadRequest(format!("`{k}`: {e}"));
    let number = |k: &str, v: &str| {
        v.parse::<usize>()
            .map_err(|_| bad(k, format!("must be a whole number, not `{v}`")))
    };
    let flag = |v: &str| matches!(v, "1" | "true" | "yes");
    for (k, v) in form_urlencoded::parse(raw.unwrap_or("").as_bytes()) {
        // Repeated keys and comma-separated values both give several filters.
        let values = || v.split(',').map(str::trim).filter(|s| !s.is_empty());
        match k.as_ref() {
            "q" => req.query = v.into_owned(),
            "soc" => req.soc.extend(values().map(str::to_string)),
            "level" => {
                for l in values() {
                    req.levels.push(l.parse().map_err(|e| bad("level", e))?);
                }
            }
            "job_zone" => {
                for z in values() {
                    req.job_zones
                        .push(request::parse_job_zone(z).map_err(|e| bad("job_zone", e))?);
                }
            }
            "limit" => req.limit = number("limit", &v)?,
            "offset" => req.offset = number("offset", &v)?,
            "by" => match v.as_ref() {
                "occupation" => by_occupation = true,
                "statement" | "" => {}
                other => {
                    return Err(bad(
                        "by",
                        format!("must be occupation or statement, not `{other}`"),
                    ));
                }
            },
            "explain" => req.explain = flag(&v),
            "hybrid" => hybrid = flag(&v),
            "semantic_ratio" => {
                ratio =
                    Some(request::parse_semantic_ratio(&v).map_err(|e| bad("semantic_ratio", e))?);
            }
            _ => {} // unknown parameters are ignored, as browsers add their own
        }
    }
    if req.query.chars().count() > config.max_query_chars {
        return Err(bad(
            "q",
            format!("is longer than {} characters", config.max_query_chars),
        ));
    }
    if req.limit > config.max_limit {
        return Err(bad(
            "limit",
            format!("must be at most {}", config.max_limit),
        ));
    }
    req.semantic_ratio =
        request::semantic_ratio(hybrid, ratio).map_err(|e| bad("semantic_ratio", e))?;
    Ok((req.validated()?, by_occupation))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::level::Level;

    fn parse(q: &str) -> Result<(SearchRequest, bool), String> {
        parse_search_params(Some(q), &ServeConfig::default()).map_err(|e| match e {
            ApiError::BadRequest(m) => m,
            other => format!("not a 400: {other:?}"),
        })
    }

    #[test]
    fn a_query_string_becomes_the_same_validated_request_as_the_cli_builds() {
        let (req, by_occupation) = parse(
            "q=inspect+cargo&soc=33-3000,53&level=advanced&level=emerging&job_zone=3&limit=5&offset=5&by=occupation&explain=1&hybrid=true&semantic_ratio=0.5",
        )
        .unwrap();
        assert!(by_occupation);
        assert_eq!(req.query, "inspect cargo");
        assert_eq!(
            req.soc,
            ["33-3", "53"],
            "group codes normalised to prefixes"
        );
        assert_eq!(req.levels, [Level::Advanced, Level::Emerging]);
        assert_eq!(req.job_zones, [3]);
        assert_eq!((req.limit, req.offset), (5, 5));
        assert!(req.explain && req.count);
        assert_eq!(req.semantic_ratio, 0.5);
        let (plain, by) = parse("q=x&unknown=1").unwrap();
        assert!(!by);
        assert_eq!(plain.limit, crate::search::request::DEFAULT_LIMIT);
        assert_eq!(plain.semantic_ratio, 0.0);
        let (hybrid, _) = parse("q=x&hybrid=yes").unwrap();
        assert_eq!(hybrid.semantic_ratio, request::DEFAULT_SEMANTIC_RATIO);
    }

    #[test]
    fn each_bad_parameter_is_named_in_its_message() {
        for (q, param) in [
            ("q=x&limit=ten", "`limit`"),
            ("q=x&limit=101", "`limit`"),
            ("q=x&offset=-1", "`offset`"),
            ("q=x&level=expert", "`level`"),
            ("q=x&job_zone=0", "`job_zone`"),
            ("q=x&by=group", "`by`"),
            ("q=x&semantic_ratio=0.5", "`semantic_ratio`"),
            ("q=x&hybrid=1&semantic_ratio=2", "`semantic_ratio`"),
        ] {
            let e = parse(q).unwrap_err();
            assert!(e.contains(param), "{q}: {e}");
        }
        let long = format!(
            "q={}",
            "a".repeat(super::super::DEFAULT_MAX_QUERY_CHARS + 1)
        );
        assert!(parse(&long).unwrap_err().contains("`q`"));
        // A SOC filter is checked by the library's validation, with the library's message.
        assert!(parse("q=x&soc=3x").unwrap_err().contains("SOC"));
    }
}
