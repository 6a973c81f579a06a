//! Access tokens: HS256 only (pinned), 15 minutes, with `iss`, `aud`,
//! `sub`, `exp`, `iat`, `nbf` and `jti` all required and validated, a
//! `typ` claim of `access` and the account's `role` when it was issued
//! (each request still checks it against the account, in its first
//! database hop). Refresh tokens are opaque random strings, so
//! neither kind can stand in for the other.

use chrono::Utc;
use domain::account::Role;
use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

pub const ISSUER: &str = "artisan-commons";
pub const AUDIENCE: &str = "artisan-commons-api";
pub const ACCESS_TOKEN_TTL_SECS: i64 = 15 * 60;
const ACCESS: &str = "access";
/// Clock skew tolerated on `exp`, `nbf` and `iat`.
const LEEWAY_SECS: i64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    sub: String,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: String,
    typ: String,
    role: String,
}

/// Who a valid access token speaks for.
#[derive(Debug, Clone)]
pub struct Subject {
    pub user_id: String,
    pub role: Role,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "nbf", "iat", "iss", "aud", "sub"]);
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS.unsigned_abs();
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
        }
    }

    /// A signed access token for `user_id`, who has `role`.
    pub fn issue(&self, user_id: &str, role: Role) -> Result<String, ApiError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            sub: user_id.to_owned(),
            exp: now + ACCESS_TOKEN_TTL_SECS,
            iat: now,
            nbf: now,
            jti: uuid::Uuid::now_v7().to_string(),
            typ: ACCESS.to_owned(),
            role: role.as_str().to_owned(),
        };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(ApiError::internal)
    }

    /// The subject of a valid access token; `None` for anything else,
    /// including a token issued in the future (`iat` beyond the clock
    /// leeway), which no clock of ours produced.
    pub fn verify(&self, token: &str) -> Option<Subject> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).ok()?;
        let issued_in_future = data.claims.iat > Utc::now().timestamp() + LEEWAY_SECS;
        let role = Role::parse(&data.claims.role)?;
        (data.claims.typ == ACCESS && !issued_in_future).then_some(Subject {
            user_id: data.claims.sub,
            role,
        })
    }
}
