//! Per-request values (request id, path) that error rendering needs but
//! cannot receive as arguments (`ResponseError::error_response` has no
//! access to the request). Set by the `observe` middleware for the whole
//! handling of one request.

use std::future::Future;

#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub request_id: String,
    pub path: String,
}

tokio::task_local! {
    static CONTEXT: RequestContext;
}

/// Runs `future` with `context` as the current request context.
pub async fn scope<F: Future>(context: RequestContext, future: F) -> F::Output {
    CONTEXT.scope(context, future).await
}

/// The current request's context, or an empty one outside a request.
pub fn current() -> RequestContext {
    CONTEXT.try_with(Clone::clone).unwrap_or_default()
}
