//! `Idempotency-Key` handling for create endpoints. The key is reserved
//! before the operation runs; its response is stored when it succeeds and
//! replayed (same status, body, `Location` and `ETag`) for a repeat with the
//! same body. A failed operation releases the key, so a retry runs anew.

use std::collections::BTreeMap;
use std::future::Future;

use actix_web::http::header::{self, HeaderName};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use persistence::idempotency::{self, Reservation, StoredResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::extract::{IdempotencyKey, IDEMPOTENCY_KEY};
use crate::error::ApiError;
use crate::state::AppState;

/// Marks a response that was replayed from the idempotency store.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// The successful outcome of a create operation.
pub struct Created {
    status: StatusCode,
    body: String,
    headers: BTreeMap<String, String>,
}

impl Created {
    /// 201 with `body`.
    pub fn new<T: Serialize>(body: &T) -> Result<Self, ApiError> {
        Self::with_status(StatusCode::CREATED, body)
    }

    pub fn with_status<T: Serialize>(status: StatusCode, body: &T) -> Result<Self, ApiError> {
        Ok(Self {
            status,
            body: serde_json::to_string(body).map_err(ApiError::internal)?,
            headers: BTreeMap::new(),
        })
    }

    pub fn location(mut self, location: String) -> Self {
        self.headers.insert(header::LOCATION.to_string(), location);
        self
    }

    pub fn etag(mut self, version: i64) -> Self {
        self.headers
            .insert(header::ETAG.to_string(), super::etag(version));
        self
    }

    fn into_response(self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((name.as_str(), value.as_str()));
        }
        response.content_type("application/json").body(self.body)
    }

    fn stored(&self) -> StoredResponse {
        StoredResponse {
            status: self.status.as_u16(),
            body: self.body.clone(),
            headers: serde_json::to_string(&self.headers).unwrap_or_else(|_| "{}".to_owned()),
        }
    }

    fn from_stored(stored: StoredResponse) -> Self {
        Self {
            status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            body: stored.body,
            headers: serde_json::from_str(&stored.headers).unwrap_or_default(),
        }
    }
}

/// Whether the endpoint insists on a key (money endpoints do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyPolicy {
    Optional,
    Required,
}

fn fingerprint<T: Serialize>(route: &str, request: &T) -> Result<String, ApiError> {
    let body = serde_json::to_vec(request).map_err(ApiError::internal)?;
    let mut hasher = Sha256::new();
    hasher.update(route.as_bytes());
    hasher.update([0]);
    hasher.update(&body);
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// Runs `operation(request)` at most once per (`principal`, key,
/// request). `route` names the operation so one key cannot be replayed
/// across endpoints; `request` is the parsed body that must match on a
/// repeat.
pub async fn run<T, F, Fut>(
    state: &AppState,
    principal: &str,
    key: IdempotencyKey,
    policy: KeyPolicy,
    route: &str,
    request: T,
    operation: F,
) -> Result<HttpResponse, ApiError>
where
    T: Serialize,
    F: FnOnce(T) -> Fut,
    Fut: Future<Output = Result<Created, ApiError>>,
{
    let Some(key) = key.0 else {
        if policy == KeyPolicy::Required {
            return Err(ApiError::bad_param(
                IDEMPOTENCY_KEY,
                "required",
                "is required on this endpoint",
            ));
        }
        return operation(request).await.map(Created::into_response);
    };
    let hash = fingerprint(route, &request)?;
    let owner = principal.to_owned();
    let reserved_key = key.clone();
    let reservation = state
        .db(move |conn| Ok(idempotency::reserve(conn, &owner, &reserved_key, &hash)?))
        .await?;
    match reservation {
        Reservation::Replay(stored) => {
            let mut response = Created::from_stored(stored).into_response();
            response
                .headers_mut()
                .insert(REPLAYED, header::HeaderValue::from_static("true"));
            Ok(response)
        }
        Reservation::InFlight => Err(ApiError::IdempotencyInProgress),
        Reservation::Mismatch => Err(ApiError::IdempotencyConflict),
        Reservation::Reserved => {
            let owner = principal.to_owned();
            match operation(request).await {
                Ok(created) => {
                    let stored = created.stored();
                    let saved = state
                        .db(move |conn| Ok(idempotency::complete(conn, &owner, &key, &stored)?))
                        .await;
                    if let Err(error) = saved {
                        // The operation itself succeeded; a retry will see
                        // the key in flight (409) until it is abandoned.
                        tracing::warn!(error = %error, "could not store idempotent response");
                    }
                    Ok(created.into_response())
                }
                Err(error) => {
                    let released = state
                        .db(move |conn| Ok(idempotency::release(conn, &owner, &key)?))
                        .await;
                    if let Err(release_error) = released {
                        tracing::warn!(error = %release_error, "could not release idempotency key");
                    }
                    Err(error)
                }
            }
        }
    }
}
