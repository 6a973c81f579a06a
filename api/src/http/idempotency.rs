//! `Idempotency-Key` handling for create endpoints. [`Once::write`]
//! reserves the key, runs the operation and stores its response in one
//! write transaction; a repeat with the same body replays the response
//! (same status, body, `Location` and `ETag`). A failed operation leaves
//! nothing behind, so a retry runs anew; an effect that committed always
//! has its answer stored with it, so a process killed at any point can
//! neither leave an effect without its key's answer nor let a later retry
//! run the operation a second time. Slow work (hashing a password,
//! resolving a webhook URL) happens before, outside any transaction.
//!
//! Nothing secret is stored in clear: the request is remembered by a keyed
//! fingerprint (a registration's body holds a password), and the response
//! body is sealed (some responses hand out a secret once, such as a new API
//! key) under a key derived from the server secret, bound to the principal
//! and key it belongs to (`auth::keys`).

use std::collections::BTreeMap;

use actix_web::http::header::{self, HeaderName};
use actix_web::http::StatusCode;
use actix_web::HttpResponse;
use persistence::db::write_tx;
use persistence::idempotency::{self, Reservation, StoredResponse};
use persistence::AnyConnection;
use serde::Serialize;

use super::extract::{IdempotencyKey, IDEMPOTENCY_KEY};
use crate::auth::keys::{Keyring, Purpose};
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

    /// What the store keeps: the body sealed to `context`.
    fn stored(&self, keys: &Keyring, context: &[u8]) -> StoredResponse {
        StoredResponse {
            status: self.status.as_u16(),
            body: keys.seal(self.body.as_bytes(), context),
            headers: serde_json::to_string(&self.headers).unwrap_or_else(|_| "{}".to_owned()),
        }
    }

    /// The stored response, if it still opens (it does not after the
    /// server secret changed: the request must then not run again, so the
    /// caller is told so instead).
    fn from_stored(
        stored: StoredResponse,
        keys: &Keyring,
        context: &[u8],
    ) -> Result<Self, ApiError> {
        let body = keys
            .open(&stored.body, context)
            .and_then(|body| String::from_utf8(body).ok())
            .ok_or_else(|| {
                ApiError::Conflict(
                    "The response stored for this Idempotency-Key can no longer be read \
                     (the server's secret changed). Check whether the first request took \
                     effect before retrying with a new key."
                        .to_owned(),
                )
            })?;
        Ok(Self {
            status: StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK),
            body,
            headers: serde_json::from_str(&stored.headers).unwrap_or_default(),
        })
    }
}

/// Whether the endpoint insists on a key (money endpoints do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyPolicy {
    Optional,
    Required,
}

/// The keyed fingerprint of (operation, body) a repeat must match.
fn fingerprint<T: Serialize>(keys: &Keyring, route: &str, request: &T) -> Result<String, ApiError> {
    let body = serde_json::to_vec(request).map_err(ApiError::internal)?;
    Ok(keys.fingerprint(Purpose::IdempotentRequest, &[route.as_bytes(), &body]))
}

/// The idempotency scope of an anonymous caller, derived from what only
/// that caller knows (for a registration: the e-mail address and the
/// password), so two anonymous clients never share one scope.
pub fn anonymous_scope(keys: &Keyring, operation: &str, secrets: &[&[u8]]) -> String {
    let mut parts: Vec<&[u8]> = vec![operation.as_bytes()];
    parts.extend_from_slice(secrets);
    format!(
        "anonymous:{}",
        keys.fingerprint(Purpose::AnonymousScope, &parts)
    )
}

/// What a sealed response is bound to.
fn seal_context(principal: &str, key: &str) -> Vec<u8> {
    [principal.as_bytes(), &[0], key.as_bytes()].concat()
}

/// A create that runs at most once per (caller, `Idempotency-Key`,
/// request): `owner` is the caller's scope (`Principal::key`, or
/// [`anonymous_scope`]), `route` names the operation so one key cannot be
/// replayed across endpoints.
pub struct Once<'a> {
    state: &'a AppState,
    owner: String,
    key: IdempotencyKey,
    policy: KeyPolicy,
    route: String,
}

impl<'a> Once<'a> {
    /// A create where the key is optional: without one it simply runs.
    pub fn optional(
        state: &'a AppState,
        owner: String,
        key: IdempotencyKey,
        route: impl Into<String>,
    ) -> Self {
        Self::new(state, owner, key, KeyPolicy::Optional, route)
    }

    /// A create that refuses to run without a key (money endpoints).
    pub fn required(
        state: &'a AppState,
        owner: String,
        key: IdempotencyKey,
        route: impl Into<String>,
    ) -> Self {
        Self::new(state, owner, key, KeyPolicy::Required, route)
    }

    fn new(
        state: &'a AppState,
        owner: String,
        key: IdempotencyKey,
        policy: KeyPolicy,
        route: impl Into<String>,
    ) -> Self {
        Self {
            state,
            owner,
            key,
            policy,
            route: route.into(),
        }
    }

    /// Runs `operation(conn, request)` unless this key already did (the
    /// stored response is replayed), in one write transaction with
    /// reserving the key and storing the response under it: one commit,
    /// and all of it or none. A repeat while the first is still running
    /// waits for it (the reservation's unique key holds it) and replays
    /// its answer; if the first failed, nothing of it remains and the
    /// repeat runs anew. `request` is the parsed body, which a repeat must
    /// match (else 422).
    pub async fn write<T, F>(self, request: T, operation: F) -> Result<HttpResponse, ApiError>
    where
        T: Serialize + Send + 'static,
        F: FnOnce(&mut AnyConnection, T) -> Result<Created, ApiError> + Send + 'static,
    {
        let Self {
            state,
            owner,
            key,
            policy,
            route,
        } = self;
        let Some(key) = key.0 else {
            if policy == KeyPolicy::Required {
                return Err(ApiError::bad_param(
                    IDEMPOTENCY_KEY,
                    "required",
                    "is required on this endpoint",
                ));
            }
            return state
                .db(move |conn| operation(conn, request))
                .await
                .map(Created::into_response);
        };
        let hash = fingerprint(&state.keys, &route, &request)?;
        let context = seal_context(&owner, &key);
        let keys = state.keys.clone();
        let (created, replayed) = state
            .db(move |conn| {
                write_tx(conn, |conn| {
                    match idempotency::reserve(conn, &owner, &key, &hash)? {
                        Reservation::Reserved => {
                            let created = operation(conn, request)?;
                            let stored = created.stored(&keys, &context);
                            idempotency::complete(conn, &owner, &key, &stored)?;
                            Ok((created, false))
                        }
                        Reservation::Replay(stored) => {
                            Ok((Created::from_stored(stored, &keys, &context)?, true))
                        }
                        Reservation::Mismatch => Err(ApiError::IdempotencyConflict),
                    }
                })
            })
            .await?;
        let mut response = created.into_response();
        if replayed {
            response
                .headers_mut()
                .insert(REPLAYED, header::HeaderValue::from_static("true"));
        }
        Ok(response)
    }
}
