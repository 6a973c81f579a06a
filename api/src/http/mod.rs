//! Shared HTTP machinery every endpoint gets for free: request context and
//! logging, metrics, rate limiting, problem+json for framework errors,
//! `ETag`/`If-Match`, idempotency and keyset pagination.

pub mod extract;
pub mod fallback;
pub mod idempotency;
pub mod metrics;
pub mod observe;
pub mod pagination;
pub mod params;
pub mod rate_limit;
pub mod request_context;

/// `"<version>"`: a strong ETag for a versioned resource.
pub use domain::precondition::etag;

/// `200 OK` with `body` and its version as the `ETag` (for `If-Match` on
/// the next change).
pub fn ok_with_etag<T: serde::Serialize>(body: &T, version: i64) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(version)))
        .json(body)
}
