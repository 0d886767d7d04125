//! The one error shape of every answer, `{"error": {"code", "message"}}`, and the body
//! extractors whose rejections use it.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::Error;

/// The one error shape: `{"error": {"code", "message"}}`. Each variant is one status and one
/// stable `code` that clients can branch on; the message is for people and may change.
#[derive(Debug)]
pub enum ApiError {
    /// 400: the request names something invalid (the message says which parameter and why).
    BadRequest(String),
    /// 404: an unknown route or occupation code.
    NotFound(String),
    /// 413: a body or batch over the service's limits.
    TooLarge(String),
    /// 415: a body of a content type the endpoint does not read.
    UnsupportedMediaType(String),
    /// 405.
    MethodNotAllowed,
    /// 401: `/api/*` and `/metrics` need a key and none (or a wrong one) was sent.
    Unauthorized,
    /// 408: the work ran past `--timeout` and was stopped.
    Timeout,
    /// 503: every permit of `--max-inflight` is taken; retry after a second.
    Busy,
    /// 500: the message is logged, never sent.
    Internal(String),
}

/// The body of every error answer (for the OpenAPI document as much as for serde).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ErrorBody<'a> {
    pub(super) error: ErrorDetail<'a>,
}

/// The `error` member: a stable code and a message for people.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct ErrorDetail<'a> {
    pub(super) code: &'a str,
    pub(super) message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message) = match &self {
            ApiError::BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.as_str()),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.as_str()),
            ApiError::TooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large", m.as_str()),
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.as_str(),
            ),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this endpoint does not take that method",
            ),
            ApiError::Unauthorized => (
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this server requires an API key: send `Authorization: Bearer KEY`",
            ),
            ApiError::Timeout => (
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the request took longer than the server's limit; its work was stopped",
            ),
            ApiError::Busy => (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is at its limit of concurrent work; retry shortly",
            ),
            ApiError::Internal(m) => {
                // Logged here, never sent: internals are not the client's business.
                tracing::error!(cause = %m, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        };
        let mut resp = (
            status,
            Json(ErrorBody {
                error: ErrorDetail { code, message },
            }),
        )
            .into_response();
        if matches!(self, ApiError::Busy) {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if matches!(self, ApiError::Unauthorized) {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"skillmap\""),
            );
        }
        resp
    }
}

impl From<Error> for ApiError {
    /// The library's errors by whose fault they are: the request's (400, 404), the clock's
    /// (408), or the server's (500, logged). Only the request's carry their message out.
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(m) => ApiError::BadRequest(m),
            e @ Error::UnknownSoc { .. } => ApiError::NotFound(e.to_string()),
            Error::Cancelled => ApiError::Timeout,
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// JSON body extractor whose rejections use our error shape.
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    Json<T>: FromRequest<S, Rejection = JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(AppJson(v)),
            Err(r) => Err(match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(r.body_text()),
                StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                    ApiError::UnsupportedMediaType("expected Content-Type: application/json".into())
                }
                _ => ApiError::BadRequest(r.body_text()),
            }),
        }
    }
}

/// Raw body extractor whose rejections (too large, unreadable) use our error shape.
pub struct AppBytes(pub axum::body::Bytes);

impl<S: Send + Sync> FromRequest<S> for AppBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => Ok(AppBytes(b)),
            Err(r) => Err(match r.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(r.body_text()),
                _ => ApiError::BadRequest(r.body_text()),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_errors_map_to_the_clients_or_the_servers_fault() {
        let status = |e: Error| ApiError::from(e).into_response().status();
        assert_eq!(status(Error::Invalid("x".into())), StatusCode::BAD_REQUEST);
        let unknown = Error::UnknownSoc {
            soc: "1".into(),
            closest: vec![],
        };
        assert_eq!(status(unknown), StatusCode::NOT_FOUND);
        assert_eq!(status(Error::Cancelled), StatusCode::REQUEST_TIMEOUT);
        let start = Error::Start {
            what: "batch workers",
            cause: "no threads".into(),
        };
        assert_eq!(status(start), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn busy_and_unauthorized_answers_carry_their_headers() {
        let busy = ApiError::Busy.into_response();
        assert_eq!(busy.headers()[header::RETRY_AFTER], "1");
        let denied = ApiError::Unauthorized.into_response();
        assert!(denied.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
