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

/// What `compute` gives for this request, worked out on the first call
/// and kept in the request's extensions for the layers that ask after it
/// (`K` is a type of the caller's own, so each answer has its own slot).
pub fn once_per_request<K: Clone + 'static>(
    req: &impl actix_web::HttpMessage,
    compute: impl FnOnce() -> K,
) -> K {
    if let Some(known) = req.extensions().get::<K>() {
        return known.clone();
    }
    let answer = compute();
    req.extensions_mut().insert(answer.clone());
    answer
}

/// `"<version>"`: a strong ETag for a versioned resource.
pub use domain::precondition::etag;

/// `200 OK` with `body` and its version as the `ETag` (for `If-Match` on
/// the next change).
pub fn ok_with_etag<T: serde::Serialize>(body: &T, version: i64) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok()
        .insert_header((actix_web::http::header::ETAG, etag(version)))
        .json(body)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use actix_web::test::TestRequest;

    use super::once_per_request;

    #[derive(Clone, Debug, PartialEq)]
    struct Answer(u32);

    #[test]
    fn an_answer_is_worked_out_once_per_request() {
        let req = TestRequest::default().to_http_request();
        let calls = Cell::new(0);
        let compute = || {
            calls.set(calls.get() + 1);
            Answer(calls.get())
        };
        assert_eq!(once_per_request(&req, compute), Answer(1));
        assert_eq!(once_per_request(&req, compute), Answer(1));
        assert_eq!(calls.get(), 1);
        let other = TestRequest::default().to_http_request();
        assert_eq!(once_per_request(&other, compute), Answer(2));
    }
}
