//! The principal extractors. Every protected handler states what it needs
//! in its signature — a [`User`], an [`Admin`], a partner's key with a
//! scope ([`Granted`]), or a [`Principal`] it reads either way — so the
//! rules of SPEC §2 live here once: Bearer access tokens for people,
//! `X-API-Key` for partner organizations, 401 for missing, invalid, revoked
//! or expired credentials and for suspended or closed accounts, 403 when
//! the credentials are fine but not for this function.
//!
//! A person's account is checked in the request's first database hop, on
//! the same connection as the handler's own queries ([`AccountCheck`]).

use std::cell::RefCell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap};
use actix_web::middleware::Next;
use actix_web::{web, FromRequest, HttpRequest, ResponseError};
use domain::account::Role;
use domain::api_key::{ApiKeySecret, Scope};
use persistence::partnerships::Viewer;
use persistence::users::{self, Standing};
use persistence::{api_keys, now, AnyConnection};

use crate::auth::jwt::Subject;
use crate::error::ApiError;
use crate::http::once_per_request;
use crate::state::AppState;

pub const API_KEY_HEADER: &str = "X-API-Key";

/// A signed-in person.
#[derive(Debug, Clone)]
pub struct User {
    pub id: String,
    pub role: Role,
}

impl User {
    /// The scope of idempotency keys and the label in logs.
    pub fn key(&self) -> String {
        format!("user:{}", self.id)
    }

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

impl Partner {
    /// The scope of idempotency keys and the label in logs.
    pub fn key(&self) -> String {
        format!("api-key:{}", self.key_id)
    }
}

impl Principal {
    /// The scope of idempotency keys and the label in logs.
    pub fn key(&self) -> String {
        match self {
            Principal::User(user) => user.key(),
            Principal::Partner(partner) => partner.key(),
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

pub const INVALID: &str = "The credentials are missing, invalid, expired or revoked.";

tokio::task_local! {
    /// The account check of the request being handled ([`check_accounts`]
    /// runs every request inside one).
    static ACCOUNT_CHECK: Rc<AccountCheck>;
}

/// Where one request's account check stands. A valid access token makes
/// it due; the request's first database hop ([`AppState::db`]) checks the
/// account before the handler's own queries and settles it; a request
/// whose handler never reached the database is checked by
/// [`check_accounts`] after the handler. A suspended or closed account, or
/// a token whose role the account no longer has, gets the same 401 as
/// before, and on its very next request.
#[derive(Debug, Default)]
pub struct AccountCheck(RefCell<Checked>);

#[derive(Debug, Default)]
enum Checked {
    #[default]
    NotDue,
    Due(Subject),
    Passed,
    Refused,
}

impl AccountCheck {
    /// Makes the current request's check due; `false` outside a request
    /// run by [`check_accounts`].
    fn defer(subject: Subject) -> bool {
        ACCOUNT_CHECK
            .try_with(|check| *check.0.borrow_mut() = Checked::Due(subject))
            .is_ok()
    }

    /// The subject to check in this hop, while the check is due.
    pub fn due() -> Option<Subject> {
        ACCOUNT_CHECK
            .try_with(|check| match &*check.0.borrow() {
                Checked::Due(subject) => Some(subject.clone()),
                _ => None,
            })
            .ok()
            .flatten()
    }

    /// Records the outcome of a hop that checked the account: refused when
    /// it answered 401, passed when it got past the check; a database
    /// failure leaves the check due.
    pub fn settle<T>(result: &Result<T, ApiError>) {
        let outcome = match result {
            Err(ApiError::Unauthenticated(_)) => Checked::Refused,
            Err(ApiError::Unavailable(_)) => return,
            _ => Checked::Passed,
        };
        let _ = ACCOUNT_CHECK.try_with(|check| *check.0.borrow_mut() = outcome);
    }
}

/// Lets a request on: the account a token speaks for exists and may act
/// (`domain::account::may_act`); otherwise the 401.
pub fn admit(subject: &Subject, standing: Option<&Standing>) -> Result<(), ApiError> {
    if standing.is_some_and(|standing| standing.may_act(subject.role)) {
        Ok(())
    } else {
        Err(ApiError::Unauthenticated(INVALID))
    }
}

/// The account check as a query of its own, on `conn`.
pub fn check(conn: &mut AnyConnection, subject: &Subject) -> Result<(), ApiError> {
    admit(subject, users::standing(conn, &subject.user_id)?.as_ref())
}

/// The account check in a hop of its own.
async fn check_alone(state: &AppState, subject: Subject) -> Result<(), ApiError> {
    state.db(move |conn| check(conn, &subject)).await
}

/// Runs each request with an account check of its own ([`AccountCheck`]);
/// after the handler, a check still due is done in a hop of its own, and a
/// refused one answers 401 whatever the handler said. (A check still due
/// after a 5xx means the database was unreachable or busy: the answer
/// stands, and nothing was done.)
pub async fn check_accounts(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let check = Rc::new(AccountCheck::default());
    let res = ACCOUNT_CHECK.scope(check.clone(), next.call(req)).await?;
    let refusal = match (check.0.take(), state) {
        (Checked::Due(subject), Some(state)) if !res.status().is_server_error() => {
            check_alone(&state, subject).await.err()
        }
        (Checked::Refused, _) => Some(ApiError::Unauthenticated(INVALID)),
        _ => None,
    };
    Ok(match refusal {
        Some(error) if res.status() != error.status_code() => {
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, error.error_response())
        }
        _ => res.map_into_boxed_body(),
    })
}

/// The credentials a request presents: an `Authorization` header (with
/// the subject of its token, if that is a valid access token), an API key,
/// or none.
enum Presented {
    Bearer(Option<Subject>),
    ApiKey(Option<String>),
    Nothing,
}

impl Presented {
    fn by(req: &HttpRequest, state: &AppState) -> Self {
        let headers = req.headers();
        if headers.contains_key(header::AUTHORIZATION) {
            Presented::Bearer(bearer_subject(req, state))
        } else {
            match api_key(headers) {
                Some(_) => Presented::ApiKey(api_key_fingerprint(req, state)),
                None => Presented::Nothing,
            }
        }
    }
}

/// The fingerprint of the request's API key, if it is one by its checksum
/// (a typo fails here, without a database round trip). Worked out once per
/// request, like [`bearer_subject`].
fn api_key_fingerprint(req: &HttpRequest, state: &AppState) -> Option<String> {
    once_per_request(req, || {
        KeyFingerprint(
            api_key(req.headers())
                .and_then(ApiKeySecret::parse)
                .map(|secret| state.keys.api_key(&secret)),
        )
    })
    .0
}

#[derive(Clone)]
struct KeyFingerprint(Option<String>);

/// The subject of the request's bearer token, if it is a valid access
/// token. Verified once per request and kept in the request's extensions:
/// the rate limiter asks first, the [`Principal`] extractor after it.
fn bearer_subject(req: &HttpRequest, state: &AppState) -> Option<Subject> {
    once_per_request(req, || {
        VerifiedBearer(bearer(req.headers()).and_then(|token| state.jwt.verify(token)))
    })
    .0
}

#[derive(Clone)]
struct VerifiedBearer(Option<Subject>);

async fn authenticate(
    state: web::Data<AppState>,
    presented: Presented,
) -> Result<Principal, ApiError> {
    match presented {
        Presented::Bearer(subject) => {
            let subject = subject.ok_or(ApiError::Unauthenticated(INVALID))?;
            let user = User {
                id: subject.user_id.clone(),
                role: subject.role,
            };
            if !AccountCheck::defer(subject.clone()) {
                check_alone(&state, subject).await?;
            }
            Ok(Principal::User(user))
        }
        Presented::ApiKey(fingerprint) => {
            partner(
                &state,
                fingerprint.ok_or(ApiError::Unauthenticated(INVALID))?,
            )
            .await
        }
        Presented::Nothing => Err(ApiError::Unauthenticated(
            "Send `Authorization: Bearer <access token>` or `X-API-Key: <key>`.",
        )),
    }
}

/// The partner organization the API key with this fingerprint speaks for,
/// if the key is usable (its last use is recorded).
async fn partner(state: &AppState, hash: String) -> Result<Principal, ApiError> {
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
    Ok(Principal::Partner(Partner {
        scopes: key.scopes(),
        key_id: key.id,
        organization_id: key.organization_id,
    }))
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let presented = state.as_ref().map(|state| Presented::by(req, state));
        Box::pin(async move {
            let (state, presented) = state
                .zip(presented)
                .ok_or_else(|| ApiError::internal("application state missing"))?;
            let principal = authenticate(state, presented).await?;
            tracing::Span::current().record("principal", principal.key());
            Ok(principal)
        })
    }
}

/// The extraction of what a handler requires of the caller: the
/// [`Principal`], then `require` (a 403 for the wrong kind of caller).
fn required<T: 'static>(
    req: &HttpRequest,
    payload: &mut Payload,
    require: impl FnOnce(Principal) -> Result<T, ApiError> + 'static,
) -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>> {
    let principal = Principal::from_request(req, payload);
    Box::pin(async move { require(principal.await?) })
}

/// A handler that is for signed-in people takes a [`User`]: the
/// [`Principal`], and 403 for a partner's API key ([`Principal::user`]).
impl FromRequest for User {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        required(req, payload, Principal::user)
    }
}

/// A partner organization's API key holding the scope `S` (a type of
/// [`scope`]); anyone else gets 403 ([`Principal::partner`]).
#[derive(Debug, Clone)]
pub struct Granted<S>(pub Partner, pub PhantomData<S>);

/// The scopes of API keys as types, for [`Granted`].
pub mod scope {
    use domain::api_key::Scope;

    /// A scope an operation needs.
    pub trait Needed {
        const SCOPE: Scope;
    }

    macro_rules! scopes {
        ($($name:ident),* $(,)?) => {
            $(
                #[derive(Debug, Clone)]
                pub struct $name;

                impl Needed for $name {
                    const SCOPE: Scope = Scope::$name;
                }
            )*
        };
    }

    scopes!(
        DirectoryRead,
        ProgramsWrite,
        ImpactRead,
        WebhooksManage,
        PartnershipsRead
    );
}

impl<S: scope::Needed + 'static> FromRequest for Granted<S> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        required(req, payload, |principal| {
            Ok(Granted(principal.partner(S::SCOPE)?, PhantomData))
        })
    }
}

/// A signed-in administrator ([`Principal::admin`]); anyone else gets 403.
#[derive(Debug, Clone)]
pub struct Admin(pub User);

impl FromRequest for Admin {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        required(req, payload, |principal| principal.admin().map(Admin))
    }
}

/// The rate-limit bucket of a request's credentials, found without the
/// database: a valid access token's subject, or an API key already seen to
/// be valid. `None` means "count it against the client IP" (and, if it
/// carries credentials, against the IP's budget of failed
/// authentications).
pub fn rate_limit_identity(state: &AppState, req: &HttpRequest) -> Option<String> {
    if let Some(subject) = bearer_subject(req, state) {
        return Some(format!("user:{}", subject.user_id));
    }
    let fingerprint = api_key_fingerprint(req, state)?;
    state
        .verified_keys
        .knows(&fingerprint)
        .then(|| format!("api-key:{}", &fingerprint[..32]))
}
