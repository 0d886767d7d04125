//! The OpenAPI 3.1 document, derived from the handlers' annotations and the response types.

use serde::Serialize;

use crate::map::batch::BatchOutput;

use super::error::ErrorBody;
use super::routes::{OccupationResponse, SearchResponse};
use super::{ops, routes};

/// The errors every key-protected operation can answer, for the API document.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(super) enum CommonErrors {
    /// A bad parameter or body
    #[response(status = 400)]
    BadRequest(ErrorBody<'static>),
    /// An API key is required and was not given, or is wrong
    #[response(status = 401)]
    Unauthorized(ErrorBody<'static>),
    /// Over the request deadline; the work was stopped
    #[response(status = 408)]
    Timeout(ErrorBody<'static>),
    /// At the limit of concurrent work; retry after a second
    #[response(status = 503)]
    Busy(ErrorBody<'static>),
    /// Internal failure (logged, never detailed)
    #[response(status = 500)]
    Internal(ErrorBody<'static>),
}

/// The query string of `GET /api/search`, for the API document (parsed by
/// `parse_search_params`, which accepts repeated and comma-separated filters).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct SearchQueryDoc {
    /// Plain words; "quoted phrases" stay together (at most `--max-query-chars` characters).
    pub(super) q: String,
    /// SOC prefix or group code (33, 33-30, 33-3051, 33-3000, ...); repeatable or comma-separated.
    pub(super) soc: Option<Vec<String>>,
    /// emerging, developing, proficient or advanced; repeatable or comma-separated.
    pub(super) level: Option<Vec<String>>,
    /// Job zone 1 to 5; repeatable or comma-separated.
    pub(super) job_zone: Option<Vec<u8>>,
    /// Results to return (default 10, at most `--max-limit`).
    pub(super) limit: Option<usize>,
    /// Results to skip.
    pub(super) offset: Option<usize>,
    /// `occupation` ranks occupations; `statement` (the default) ranks statements.
    pub(super) by: Option<String>,
    /// `1`, `true` or `yes`: each hit carries its score explanation.
    pub(super) explain: Option<String>,
    /// `1`, `true` or `yes`: rank by BM25 and the static embedding's cosine together, so that
    /// statements that say the query in other words are found too.
    pub(super) hybrid: Option<String>,
    /// With `hybrid`: the cosine's share of the score, 0 to 1 (default 0.3; 0 is BM25 alone).
    pub(super) semantic_ratio: Option<f32>,
}

/// What `GET /api/search` answers: statements, or occupations with `by=occupation`.
#[derive(Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code)]
pub(super) enum SearchAnswer {
    Statements(SearchResponse),
    Occupations(OccupationResponse),
}

/// The API document: paths from the handlers' annotations, schemas from the response types.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "skillmap", description = "Full-text search over competency framework statements, and mapping of job postings to framework levels."),
    paths(
        routes::health, routes::search_handler, routes::map_handler, routes::map_batch_handler,
        routes::occupation_handler, routes::stats_handler, ops::metrics_handler,
        routes::openapi_handler
    ),
    components(schemas(ErrorBody, SearchAnswer, BatchOutput)),
    modifiers(&BearerScheme),
    tags(
        (name = "search", description = "Statements that mention a skill, and occupations ranked by them"),
        (name = "map", description = "Job postings to occupations and levels"),
        (name = "occupations", description = "One occupation's framework"),
        (name = "index", description = "What the index holds"),
        (name = "service", description = "Health, metrics and this document"),
    )
)]
pub(super) struct ApiDoc;

/// The `bearer` security scheme the key-protected operations name.
pub(super) struct BearerScheme;

impl utoipa::Modify for BearerScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI 3.1 document of the service.
pub fn openapi() -> utoipa::openapi::OpenApi {
    use utoipa::OpenApi;
    ApiDoc::openapi()
}
