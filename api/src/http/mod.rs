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
