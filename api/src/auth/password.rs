//! Argon2id password hashing with the OWASP-recommended parameters set
//! explicitly (19 MiB memory, 2 iterations, 1 lane). Hashing is CPU-bound:
//! callers run it on the blocking pool, never on an async worker.

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::ApiError;

pub struct Passwords {
    argon2: Argon2<'static>,
    /// A hash of a random password, verified against when the account does
    /// not exist so that unknown e-mails take as long as wrong passwords.
    decoy: String,
}

impl Passwords {
    pub fn new() -> Result<Self, ApiError> {
        let params = Params::new(19 * 1024, 2, 1, None).map_err(ApiError::internal)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let decoy = argon2
            .hash_password(crate::auth::new_refresh_token().as_bytes())
            .map_err(ApiError::internal)?
            .to_string();
        Ok(Self { argon2, decoy })
    }

    pub fn hash(&self, password: &str) -> Result<String, ApiError> {
        self.argon2
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(ApiError::internal)
    }

    /// Checks `password` against `stored` (or against the decoy when there
    /// is no account), always spending the same work.
    pub fn verify(&self, password: &str, stored: Option<&str>) -> bool {
        let ok = self
            .argon2
            .verify_password(password.as_bytes(), stored.unwrap_or(&self.decoy))
            .is_ok();
        ok && stored.is_some()
    }
}
