//! Application state shared by all workers, and the one place where
//! blocking database work is moved off the async threads.

use std::time::Duration;

use actix_web::web;
use persistence::db::{with_connection, ConnectionLost};
use persistence::{AnyConnection, Pool};

use crate::auth::jwt::JwtKeys;
use crate::auth::keys::Keyring;
use crate::auth::password::Passwords;
use crate::config::Config;
use crate::error::ApiError;
use crate::http::metrics::Metrics;
use crate::http::rate_limit::{RateLimiter, VerifiedKeys};

/// Request-handling settings taken from the configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub rate_limit_per_minute: u32,
    pub rate_limit_auth_per_minute: u32,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub request_head_timeout: Duration,
    pub request_body_timeout: Duration,
    pub keep_alive: Duration,
    pub cors_allowed_origins: Vec<String>,
    /// Webhook URLs may be `http://` and name private addresses (local
    /// testing only).
    pub webhooks_allow_private_networks: bool,
}

pub struct AppState {
    pub pool: Pool,
    pub jwt: JwtKeys,
    pub keys: Keyring,
    pub passwords: Passwords,
    pub settings: Settings,
    pub rate_limiter: RateLimiter,
    pub verified_keys: VerifiedKeys,
    pub metrics: Metrics,
}

impl ConnectionLost for ApiError {
    fn connection_lost(&self) -> bool {
        matches!(self, ApiError::Unavailable(_))
    }
}

impl AppState {
    /// The state for a server on `pool` configured by `config`.
    pub fn new(pool: Pool, config: &Config) -> Result<Self, ApiError> {
        Ok(Self {
            pool,
            jwt: JwtKeys::new(config.jwt_secret.expose()),
            keys: Keyring::derive(config.jwt_secret.expose()),
            passwords: Passwords::new()?,
            settings: Settings {
                rate_limit_per_minute: config.rate_limit_per_minute,
                rate_limit_auth_per_minute: config.rate_limit_auth_per_minute,
                max_body_bytes: config.max_body_bytes,
                max_header_bytes: config.max_header_bytes,
                request_head_timeout: Duration::from_secs(config.request_head_timeout_seconds),
                request_body_timeout: Duration::from_secs(config.request_body_timeout_seconds),
                keep_alive: Duration::from_secs(config.keep_alive_seconds),
                cors_allowed_origins: config.cors_allowed_origins.clone(),
                webhooks_allow_private_networks: config.webhooks_allow_private_networks,
            },
            rate_limiter: RateLimiter::with_capacity(config.rate_limit_buckets),
            verified_keys: VerifiedKeys::with_capacity(4096),
            metrics: Metrics::default(),
        })
    }

    /// Runs `work` with a pooled connection on the blocking thread pool.
    /// No connection within the pool timeout → 503.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut AnyConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || with_connection(&pool, work)).await?
    }
}
