//! The outer middleware: request id, one tracing span per request, access
//! log, metrics, `Cache-Control: no-store`; and the rate-limit middleware.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};
use tracing::Instrument;

use super::request_context::{self, RequestContext};
use crate::auth::principal::rate_limit_identity;
use crate::error::ApiError;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

fn acceptable_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

pub async fn observe(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let started = Instant::now();
    let request_id = req
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable_request_id(v))
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned);
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method,
        route = %route,
        principal = tracing::field::Empty,
    );
    let context = RequestContext {
        request_id: request_id.clone(),
        path: req.path().to_owned(),
    };
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let outcome = request_context::scope(context, next.call(req).instrument(span.clone())).await;
    // Inner layers answer errors themselves; an `Err` here comes only from
    // framework middleware (e.g. CORS refusing an origin). It is logged and
    // passed on for actix to render. (Cloning the request to render it here
    // is not possible before routing has finished with it.)
    let mut response = match outcome {
        Ok(response) => response.map_into_boxed_body(),
        Err(error) => {
            let status = error.as_response_error().status_code().as_u16();
            if let Some(state) = &state {
                state
                    .metrics
                    .record(&method, &route, status, started.elapsed());
            }
            span.in_scope(|| tracing::info!(status, "request refused by middleware"));
            return Err(error);
        }
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(REQUEST_ID, value);
    }
    if !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    if let Some(state) = state {
        state.metrics.record(&method, &route, status, elapsed);
    }
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status >= 500 {
            tracing::error!(status, latency_ms, "request failed");
        } else {
            tracing::info!(status, latency_ms, "request completed");
        }
    });
    Ok(response)
}

/// Paths where the stricter per-IP limit applies.
const AUTH_PATHS: [&str; 3] = ["/v1/auth/login", "/v1/auth/register", "/v1/auth/refresh"];

pub async fn limit_rate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    if !req.path().starts_with("/v1/") {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    }
    let ip = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |addr| addr.ip().to_string());
    let limits = &state.settings;
    let (key, limit) = if AUTH_PATHS.contains(&req.path()) {
        (format!("auth:{ip}"), limits.rate_limit_auth_per_minute)
    } else {
        let identity = rate_limit_identity(&state, req.headers()).unwrap_or(format!("ip:{ip}"));
        (identity, limits.rate_limit_per_minute)
    };
    match state.rate_limiter.check(&key, limit) {
        Ok(()) => next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body),
        Err(retry_after_secs) => {
            let error = ApiError::RateLimited { retry_after_secs };
            Ok(req.into_response(error.error_response()))
        }
    }
}
