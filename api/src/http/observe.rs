//! The outer middleware: request id, one tracing span per request, access
//! log, metrics, `Cache-Control: no-store`; and the rate-limit middleware.

use std::time::Instant;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error, ResponseError};
use tracing::Instrument;

use actix_web::http::StatusCode;

use super::metrics::method_label;
use super::rate_limit::Quota;
use super::request_context::{self, RequestContext};
use crate::auth::principal::{rate_limit_identity, API_KEY_HEADER};
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
    let route = route_template(&req);
    let method = req.method().clone();
    let route_label = route.as_deref().unwrap_or(super::metrics::UNMATCHED);
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %method_label(&method),
        route = %route_label,
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
                    .record(&method, route.as_deref(), status, started.elapsed());
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
        state
            .metrics
            .record(&method, route.as_deref(), status, elapsed);
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

/// The network a client's address stands for: the address itself for
/// IPv4, its /64 for IPv6 (one subscriber's allocation: an attacker can
/// rotate through 2^64 addresses of it, not through networks).
fn client_network(ip: std::net::IpAddr) -> String {
    match ip {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Route templates where the stricter per-IP limit applies.
const AUTH_ROUTES: [&str; 3] = ["/v1/auth/login", "/v1/auth/register", "/v1/auth/refresh"];
/// Route templates that authenticate with a secret in the body.
const CREDENTIAL_ROUTES: [&str; 2] = ["/v1/auth/login", "/v1/auth/refresh"];

/// The template of the route that will run for this request, matched as
/// the router matches it: against the percent-decoded path. `None` when no
/// route matches (the request ends in the 404/405 fallback). Matched once
/// per request (it walks every route's pattern) and kept in the request's
/// extensions for the layers after the first.
pub fn route_template(req: &ServiceRequest) -> Option<String> {
    super::once_per_request(req, || {
        RouteTemplate(req.resource_map().match_pattern(req.match_info().as_str()))
    })
    .0
}

#[derive(Clone)]
struct RouteTemplate(Option<String>);

fn quota_headers(headers: &mut header::HeaderMap, quota: Quota) {
    for (name, value) in [
        (RATELIMIT_LIMIT, u64::from(quota.limit)),
        (RATELIMIT_REMAINING, u64::from(quota.remaining)),
        (RATELIMIT_RESET, quota.reset_secs),
    ] {
        headers.insert(name, HeaderValue::from(value));
    }
}

pub const RATELIMIT_LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
pub const RATELIMIT_REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
pub const RATELIMIT_RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

fn refused(req: ServiceRequest, quota: Quota) -> ServiceResponse<BoxBody> {
    let error = ApiError::RateLimited {
        retry_after_secs: quota.reset_secs,
    };
    let mut response = req.into_response(error.error_response());
    quota_headers(response.headers_mut(), quota);
    response
}

/// Refuses a request whose headers (names and values together) are larger
/// than `MAX_HEADER_BYTES` with a 431 problem, before anything else reads
/// them. The request line does not count: a long query is the parameters'
/// business (their own limits answer 400).
pub async fn limit_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limit = req
        .app_data::<web::Data<AppState>>()
        .map_or(usize::MAX, |state| state.settings.max_header_bytes);
    let size: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum();
    if size > limit {
        let error = ApiError::HeaderFieldsTooLarge { limit };
        return Ok(req.into_response(error.error_response()));
    }
    next.call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body)
}

/// Rate limits, chosen by the route that will actually run (its template,
/// so percent-encoding cannot move a request out of its bucket):
/// sign-in, registration and refresh count per IP against the stricter
/// limit; other API requests per user, per API key or per IP (a key counts
/// as itself only once it has been seen to be valid: until then, and for
/// forged keys, the IP's bucket). Requests that try to authenticate
/// (credentials in a header, or sign-in and refresh) also spend the IP's
/// budget of failed authentications: one unit is reserved before the
/// handler runs and given back unless the answer is 401, so concurrent
/// guesses cannot overdraw it; once it is spent they are refused (429)
/// until the window ends. A valid access token or a key already seen to be
/// valid needs no guessing and is never held back by it.
pub async fn limit_rate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let route = route_template(&req);
    let limited = route.as_deref().is_none_or(|r| r.starts_with("/v1/"));
    let Some(state) = state.filter(|_| limited) else {
        return next
            .call(req)
            .await
            .map(ServiceResponse::map_into_boxed_body);
    };
    let ip = req
        .peer_addr()
        .map_or_else(|| "unknown".to_owned(), |addr| client_network(addr.ip()));
    let limits = &state.settings;
    let route = route.as_deref().unwrap_or_default();
    let identity = rate_limit_identity(&state, req.request());
    let presents_credentials = req.headers().contains_key(header::AUTHORIZATION)
        || req.headers().contains_key(API_KEY_HEADER);
    let authenticates =
        identity.is_none() && (presents_credentials || CREDENTIAL_ROUTES.contains(&route));
    let failures = format!("auth-failures:{ip}");
    let (key, limit) = if AUTH_ROUTES.contains(&route) {
        (format!("auth:{ip}"), limits.rate_limit_auth_per_minute)
    } else {
        (
            identity.unwrap_or(format!("ip:{ip}")),
            limits.rate_limit_per_minute,
        )
    };
    let quota = state.rate_limiter.take(&key, limit);
    if let Some(quota) = quota.filter(|q| !q.allowed) {
        return Ok(refused(req, quota));
    }
    let reserved = if authenticates {
        let reserved = state
            .rate_limiter
            .take(&failures, limits.rate_limit_auth_per_minute);
        if let Some(quota) = reserved.filter(|q| !q.allowed) {
            return Ok(refused(req, quota));
        }
        reserved.is_some()
    } else {
        false
    };
    let outcome = next
        .call(req)
        .await
        .map(ServiceResponse::map_into_boxed_body);
    let failed = outcome
        .as_ref()
        .is_ok_and(|r| r.status() == StatusCode::UNAUTHORIZED);
    if reserved && !failed {
        state.rate_limiter.give_back(&failures);
    }
    let mut response = outcome?;
    if let Some(quota) = quota {
        quota_headers(response.headers_mut(), quota);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::client_network;

    #[test]
    fn an_ipv6_client_is_its_slash_64() {
        let a = client_network("2001:db8:1:2:aaaa::1".parse().expect("ip"));
        let b = client_network("2001:db8:1:2:ffff:1:2:3".parse().expect("ip"));
        assert_eq!(a, b);
        assert_eq!(a, "2001:db8:1:2::/64");
        assert_ne!(a, client_network("2001:db8:1:3::1".parse().expect("ip")));
        assert_eq!(
            client_network("192.0.2.7".parse().expect("ip")),
            "192.0.2.7"
        );
        assert_eq!(
            client_network("::ffff:192.0.2.7".parse().expect("ip")),
            "192.0.2.7"
        );
    }
}
