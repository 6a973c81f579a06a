//! Registration, sign-in, token refresh and sign-out.

use actix_web::{post, web, HttpResponse};
use domain::account::{AccountStatus, Role};
use domain::profile::ProfileFields;
use domain::text::{DisplayName, Email, Password};
use domain::FieldErrors;
use persistence::users::UserRow;
use persistence::{tokens, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::auth::jwt::ACCESS_TOKEN_TTL_SECS;
use crate::auth::new_refresh_token;
use crate::error::{ApiError, Reply};
use crate::http::extract::{Body, IdempotencyKey};
use crate::http::idempotency::{anonymous_scope, Created, Once};
use crate::state::AppState;
use crate::views::Me;

/// How long a refresh token lives if unused.
const REFRESH_TOKEN_TTL_DAYS: i64 = 30;

pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register)
        .service(login)
        .service(refresh)
        .service(logout);
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "rosa@example.org", "password": "a long password",
                          "display_name": "Rosa Quispe"}))]
pub struct RegisterRequest {
    #[schema(value_type = crate::schema::EmailAddress, example = "rosa@example.org")]
    pub email: String,
    #[schema(format = Password, min_length = 10, max_length = 128)]
    pub password: String,
    #[schema(value_type = crate::schema::DisplayName, example = "Rosa Quispe")]
    pub display_name: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(max_length = 254, example = "rosa@example.org")]
    pub email: String,
    #[schema(format = Password, max_length = 128)]
    pub password: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from sign-in or the previous refresh.
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: String,
}

/// Longest refresh token accepted (issued ones are 43 characters).
const REFRESH_TOKEN_MAX: usize = 512;

impl RefreshRequest {
    /// The stored fingerprint of the presented token; overlong input → 422.
    fn token_hash(&self, state: &AppState) -> Result<String, ApiError> {
        if self.refresh_token.is_empty() || self.refresh_token.chars().count() > REFRESH_TOKEN_MAX {
            return Err(domain::FieldError::new(
                "refresh_token",
                "length",
                format!("must have 1 to {REFRESH_TOKEN_MAX} characters"),
            )
            .into());
        }
        Ok(state.keys.refresh_token(&self.refresh_token))
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: i64,
    /// Opaque, single use: every refresh returns a new one.
    pub refresh_token: String,
}

/// The response of sign-in and refresh: a fresh access token beside the
/// refresh token that was just stored.
fn token_pair(
    state: &AppState,
    user: &UserRow,
    refresh_token: String,
) -> Result<TokenPair, ApiError> {
    Ok(TokenPair {
        access_token: state.jwt.issue(&user.id, user.role())?,
        token_type: "Bearer".to_owned(),
        expires_in: ACCESS_TOKEN_TTL_SECS,
        refresh_token,
    })
}

fn refresh_expiry() -> chrono::NaiveDateTime {
    persistence::now() + chrono::Duration::days(REFRESH_TOKEN_TTL_DAYS)
}

/// Create an account (role `artisan`) and its artisan profile.
#[utoipa::path(
    tag = "auth",
    operation_id = "register",
    request_body = RegisterRequest,
    params(crate::http::extract::IdempotencyKeyHeader),
    security(()),
    responses(
        (status = 201, description = "The new account", body = Me,
            headers(("Location" = String, description = "The new artisan profile"))),
        crate::openapi::WriteProblems,
    )
)]
#[post("/auth/register")]
pub async fn register(
    state: web::Data<AppState>,
    key: IdempotencyKey,
    body: Body<RegisterRequest>,
) -> Reply {
    let request = body.into_inner();
    let state = &state;
    let scope = anonymous_scope(
        &state.keys,
        "register",
        &[
            request.email.trim().to_lowercase().as_bytes(),
            request.password.as_bytes(),
        ],
    );
    // Checked and hashed before the key is looked at: the account and its
    // stored answer are then written in one transaction (`Once::write`).
    let mut errors = FieldErrors::default();
    let email = errors.take(Email::parse("email", &request.email));
    let password = errors.take(Password::parse("password", &request.password));
    let display_name = errors.take(DisplayName::parse("display_name", &request.display_name));
    let (Some(email), Some(password), Some(display_name)) = (email, password, display_name) else {
        return Err(errors.into());
    };
    let password_hash = state
        .passwords
        .run(move |hasher| hasher.hash(password.expose()))
        .await??;
    Once::optional(state, scope, key, "register")
        .write(request, move |conn, _| {
            let (user, profile) = users::create_account(
                conn,
                users::NewAccount {
                    email: &email,
                    password_hash,
                    role: Role::Artisan,
                    profile: ProfileFields::new_member(display_name),
                },
            )?;
            let location = format!("/v1/artisans/{}", user.id);
            let version = profile.version;
            Ok(Created::new(&Me::new(user, profile))?
                .location(location)
                .etag(version))
        })
        .await
}

const BAD_LOGIN: &str = "The e-mail or password is wrong.";

/// Sign in with e-mail and password.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    security(()),
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        crate::openapi::WriteProblems,
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: Body<LoginRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let LoginRequest { email, password } = body.into_inner();
    let user = match Email::parse("email", &email) {
        Ok(email) => {
            state
                .db(move |conn| Ok(users::find_by_email(conn, &email)?))
                .await?
        }
        Err(_) => None,
    };
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    // Always spend one Argon2 verification, so an unknown e-mail and a
    // wrong password cannot be told apart by timing either.
    let password_ok = state
        .passwords
        .run(move |hasher| hasher.verify(&password, stored.as_deref()))
        .await?;
    let user = user
        .filter(|u| password_ok && u.status() == AccountStatus::Active)
        .ok_or(ApiError::Unauthenticated(BAD_LOGIN))?;
    let refresh_token = new_refresh_token();
    let hash = state.keys.refresh_token(&refresh_token);
    let user_id = user.id.clone();
    state
        .db(move |conn| Ok(tokens::issue(conn, &user_id, &hash, refresh_expiry())?))
        .await?;
    Ok(web::Json(token_pair(&state, &user, refresh_token)?))
}

/// Exchange a refresh token for a new pair. Each refresh token works once;
/// presenting a used one revokes every token of its family.
#[utoipa::path(
    tag = "auth",
    operation_id = "refreshTokens",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 200, description = "A new token pair", body = TokenPair),
        crate::openapi::WriteProblems,
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Body<RefreshRequest>,
) -> Result<web::Json<TokenPair>, ApiError> {
    let presented = body.token_hash(&state)?;
    let next_token = new_refresh_token();
    let next_hash = state.keys.refresh_token(&next_token);
    let user = state
        .db(move |conn| {
            let outcome = tokens::rotate(conn, &presented, &next_hash, refresh_expiry())?;
            let Ok(user_id) = outcome else {
                if let Err(refused) = &outcome {
                    tracing::info!(reason = ?refused, "refresh refused");
                }
                return Ok(None);
            };
            Ok(users::find(conn, &user_id)?.filter(|u| u.status() == AccountStatus::Active))
        })
        .await?
        .ok_or(ApiError::Unauthenticated(
            "The refresh token is invalid, expired or revoked.",
        ))?;
    Ok(web::Json(token_pair(&state, &user, next_token)?))
}

/// Sign out: revokes the refresh token's whole family. Unknown tokens are
/// accepted silently, so sign-out is safe to retry.
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    request_body = RefreshRequest,
    security(()),
    responses(
        (status = 204, description = "Signed out"),
        crate::openapi::WriteProblems,
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: web::Data<AppState>, body: Body<RefreshRequest>) -> Reply {
    let presented = body.token_hash(&state)?;
    state
        .db(move |conn| Ok(tokens::revoke_family_of(conn, &presented)?))
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
