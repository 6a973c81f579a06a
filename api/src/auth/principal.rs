//! The principal extractor. Every protected handler takes a [`Principal`]
//! and states what it needs (`user()`, `admin()`, `partner(scope)`), so the
//! rules of SPEC §2 live here once: Bearer access tokens for people,
//! `X-API-Key` for partner organizations, 401 for missing, invalid, revoked
//! or expired credentials and for suspended or closed accounts, 403 when
//! the credentials are fine but not for this function.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{web, FromRequest, HttpRequest};
use domain::account::{AccountStatus, Role};
use domain::api_key::{ApiKeySecret, Scope};
use persistence::partnerships::Viewer;
use persistence::{api_keys, now, users};

use crate::error::ApiError;
use crate::state::AppState;

pub const API_KEY_HEADER: &str = "X-API-Key";

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub role: Role,
}

impl User {
    /// Who is looking, as storage filters by it (admins read everything
    /// they may see).
    pub fn viewer(&self) -> Viewer {
        Viewer {
            id: self.id.clone(),
            admin: self.role == Role::Admin,
        }
    }
}

/// A partner organization calling with one of its API keys.
#[derive(Debug, Clone)]
pub struct Partner {
    pub key_id: String,
    pub organization_id: String,
    pub scopes: Vec<Scope>,
}

#[derive(Debug, Clone)]
pub enum Principal {
    User(User),
    Partner(Partner),
}

impl Principal {
    /// The scope of idempotency keys and the label in logs.
    pub fn key(&self) -> String {
        match self {
            Principal::User(user) => format!("user:{}", user.id),
            Principal::Partner(partner) => format!("api-key:{}", partner.key_id),
        }
    }

    /// A person is required (partners → 403).
    pub fn user(self) -> Result<User, ApiError> {
        match self {
            Principal::User(user) => Ok(user),
            Principal::Partner(_) => Err(ApiError::Forbidden(
                "This operation is for signed-in people, not API keys.",
            )),
        }
    }

    /// An admin is required.
    pub fn admin(self) -> Result<User, ApiError> {
        let user = self.user()?;
        if user.role == Role::Admin {
            Ok(user)
        } else {
            Err(ApiError::Forbidden("This operation is for administrators."))
        }
    }

    /// A partner key holding `scope` is required.
    pub fn partner(self, scope: Scope) -> Result<Partner, ApiError> {
        match self {
            Principal::Partner(partner) if partner.scopes.contains(&scope) => Ok(partner),
            Principal::Partner(_) => Err(ApiError::Forbidden(
                "This API key lacks the scope this operation needs.",
            )),
            Principal::User(_) => Err(ApiError::Forbidden(
                "This operation is for partner organizations' API keys.",
            )),
        }
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

fn api_key(headers: &HeaderMap) -> Option<&str> {
    headers.get(API_KEY_HEADER)?.to_str().ok()
}

const INVALID: &str = "The credentials are missing, invalid, expired or revoked.";

async fn authenticate(
    state: web::Data<AppState>,
    headers: HeaderMap,
) -> Result<Principal, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        let subject = bearer(&headers)
            .and_then(|token| state.jwt.verify(token))
            .ok_or(ApiError::Unauthenticated(INVALID))?;
        let user = state
            .db(move |conn| Ok(users::find(conn, &subject)?))
            .await?
            .filter(|user| user.status() == AccountStatus::Active)
            .ok_or(ApiError::Unauthenticated(INVALID))?;
        return Ok(Principal::User(User {
            role: user.role(),
            id: user.id,
        }));
    }
    if let Some(presented) = api_key(&headers) {
        // A typo fails the checksum here, without a database round trip.
        let secret = ApiKeySecret::parse(presented).ok_or(ApiError::Unauthenticated(INVALID))?;
        let hash = state.keys.api_key(&secret);
        let seen = hash.clone();
        let key = state
            .db(move |conn| {
                let at = now();
                let key = api_keys::find_by_hash(conn, &hash)?.filter(|key| key.is_usable(at));
                if let Some(key) = &key {
                    api_keys::touch(conn, key, at)?;
                }
                Ok(key)
            })
            .await?
            .ok_or(ApiError::Unauthenticated(INVALID))?;
        state.verified_keys.remember(&seen);
        return Ok(Principal::Partner(Partner {
            scopes: key.scopes(),
            key_id: key.id,
            organization_id: key.organization_id,
        }));
    }
    Err(ApiError::Unauthenticated(
        "Send `Authorization: Bearer <access token>` or `X-API-Key: <key>`.",
    ))
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let headers = req.headers().clone();
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("application state missing"))?;
            let principal = authenticate(state, headers).await?;
            tracing::Span::current().record("principal", principal.key());
            Ok(principal)
        })
    }
}

/// The rate-limit bucket of a request's credentials, found without the
/// database: a valid access token's subject, or an API key already seen to
/// be valid. `None` means "count it against the client IP" (and, if it
/// carries credentials, against the IP's budget of failed
/// authentications).
pub fn rate_limit_identity(state: &AppState, headers: &HeaderMap) -> Option<String> {
    if let Some(subject) = bearer(headers).and_then(|token| state.jwt.verify(token)) {
        return Some(format!("user:{subject}"));
    }
    let secret = api_key(headers).and_then(ApiKeySecret::parse)?;
    let fingerprint = state.keys.api_key(&secret);
    state
        .verified_keys
        .knows(&fingerprint)
        .then(|| format!("api-key:{}", &fingerprint[..32]))
}
