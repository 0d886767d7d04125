//! The query string of `GET /api/search`, parsed into the library's validated request.

use super::*;

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
